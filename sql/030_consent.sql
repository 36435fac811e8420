-- Consent to be named (issue 15): whether an authority's unpublished
-- (council-submitted) figures may be shown under its name.  Changed only
-- through set_consent_to_name(), by `sendbench consent` and the admin API
-- alike, and every call is audited (also one that changes nothing).  The
-- server's role may call the function but cannot UPDATE authorities itself.
CREATE FUNCTION set_consent_to_name(p_code text, p_name boolean, p_actor text, p_token bigint)
RETURNS TABLE (code text, name text, consent_to_name boolean, changed boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
    a authorities%ROWTYPE;
BEGIN
    SELECT * INTO a FROM authorities x
    WHERE x.new_la_code = p_code OR x.old_la_code = p_code
    ORDER BY x.new_la_code LIMIT 1 FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF a.consent_to_name IS DISTINCT FROM p_name THEN
        UPDATE authorities x SET consent_to_name = p_name WHERE x.new_la_code = a.new_la_code;
    END IF;
    INSERT INTO audit_log (token_id, actor, action, authority, detail)
    VALUES (p_token, p_actor, 'consent.set', a.new_la_code,
            jsonb_build_object('name', p_name, 'was', a.consent_to_name));
    RETURN QUERY SELECT a.new_la_code, a.name, p_name, a.consent_to_name IS DISTINCT FROM p_name;
END $$;
REVOKE ALL ON FUNCTION set_consent_to_name(text, boolean, text, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION set_consent_to_name(text, boolean, text, bigint) TO sendbench_app;
