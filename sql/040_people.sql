-- People: accounts with a role for one authority (or administrators), their
-- one-time set-up links, their sessions and the sign-in attempts that
-- throttle guessing.  Sessions live here, not in a server's memory, so they
-- survive a restart and work behind a load balancer with several servers.

CREATE TABLE users (
    id           bigserial PRIMARY KEY,
    -- Compared and stored in lower case: the address is the sign-in name.
    email        text NOT NULL UNIQUE CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254
                                             AND email ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
    role         text NOT NULL CHECK (role IN ('submitter', 'approver', 'viewer', 'admin')),
    authority    text REFERENCES authorities,
    -- libsodium's Argon2id string ($argon2id$v=19$m=...,t=...,p=...$salt$hash);
    -- NULL until the person has used the set-up link.
    password_hash text CHECK (password_hash IS NULL OR password_hash LIKE '$argon2id$%'),
    created_at   timestamptz NOT NULL DEFAULT now(),
    created_by   text NOT NULL,             -- 'cli' or 'user:<id>'
    disabled_at  timestamptz,
    CHECK ((role = 'admin') = (authority IS NULL))
);
CREATE INDEX users_authority ON users (authority);

-- A set-up link is shown once; only the SHA-256 of its secret is kept.
CREATE TABLE user_setup_links (
    id          bigserial PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users,
    hash        bytea NOT NULL UNIQUE CHECK (length(hash) = 32),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);

-- The cookie carries a 256-bit secret; the table keeps its SHA-256, so a
-- copy of the database does not let anyone sign in as anybody.
CREATE TABLE sessions (
    id            bigserial PRIMARY KEY,
    hash          bytea NOT NULL UNIQUE CHECK (length(hash) = 32),
    user_id       bigint NOT NULL REFERENCES users,
    -- The CSRF token of the session's forms (synchroniser token).
    csrf          text NOT NULL CHECK (length(csrf) = 43),
    address       text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    ended_at      timestamptz,
    end_reason    text CHECK (end_reason IN ('signed_out', 'signed_in_again', 'user_disabled'))
);
CREATE INDEX sessions_user ON sessions (user_id) WHERE ended_at IS NULL;

-- Every sign-in attempt, kept for the throttle (per account and per
-- address, counted over a window) and for the audit.
CREATE TABLE login_attempts (
    id       bigserial PRIMARY KEY,
    at       timestamptz NOT NULL DEFAULT now(),
    email    text NOT NULL,
    address  text NOT NULL,
    ok       boolean NOT NULL
);
CREATE INDEX login_attempts_email ON login_attempts (email, at) WHERE NOT ok;
CREATE INDEX login_attempts_address ON login_attempts (address, at) WHERE NOT ok;

-- Who did it, when it was a person.
ALTER TABLE audit_log ADD COLUMN user_id bigint REFERENCES users;

GRANT INSERT, UPDATE ON users, user_setup_links, sessions TO sendbench_app;
GRANT INSERT ON login_attempts TO sendbench_app;

-- Creating a person's account and its first set-up link, for the CLI and
-- the admin page alike: one statement, audited.  p_authority may be an ONS
-- code or a DfE number.  Raises SBK10 (unknown authority) or 23505 (the
-- email is taken).
CREATE FUNCTION user_create(p_email text, p_role text, p_authority text, p_actor text,
                            p_actor_user bigint, p_link_hash bytea, p_days int)
    RETURNS TABLE (user_id bigint, authority text, expires_at timestamptz)
    LANGUAGE plpgsql AS $$
DECLARE
    auth text;
    uid bigint;
    exp timestamptz := now() + make_interval(days => p_days);
BEGIN
    IF p_authority IS NOT NULL THEN
        SELECT a.new_la_code INTO auth FROM authorities a
         WHERE a.new_la_code = p_authority OR a.old_la_code = p_authority;
        IF auth IS NULL THEN
            RAISE EXCEPTION 'unknown authority %', p_authority USING ERRCODE = 'SBK10';
        END IF;
    END IF;
    INSERT INTO users (email, role, authority, created_by)
    VALUES (lower(p_email), p_role, auth, p_actor) RETURNING id INTO uid;
    INSERT INTO user_setup_links (user_id, hash, expires_at) VALUES (uid, p_link_hash, exp);
    INSERT INTO audit_log (user_id, actor, action, authority, detail)
    VALUES (p_actor_user, p_actor, 'user.create', auth,
            jsonb_build_object('user_id', uid, 'email', lower(p_email), 'role', p_role));
    RETURN QUERY SELECT uid, auth, exp;
END $$;

-- A new set-up link (a forgotten password): earlier unused links stop working.
CREATE FUNCTION user_new_link(p_user bigint, p_actor text, p_actor_user bigint,
                              p_link_hash bytea, p_days int)
    RETURNS timestamptz LANGUAGE plpgsql AS $$
DECLARE
    exp timestamptz := now() + make_interval(days => p_days);
    auth text;
BEGIN
    SELECT u.authority INTO auth FROM users u WHERE u.id = p_user AND u.disabled_at IS NULL;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    UPDATE user_setup_links SET expires_at = now()
     WHERE user_id = p_user AND used_at IS NULL AND expires_at > now();
    INSERT INTO user_setup_links (user_id, hash, expires_at) VALUES (p_user, p_link_hash, exp);
    INSERT INTO audit_log (user_id, actor, action, authority, detail)
    VALUES (p_actor_user, p_actor, 'user.link', auth, jsonb_build_object('user_id', p_user));
    RETURN exp;
END $$;

-- Disabling ends the person's sessions and unused links at once.
CREATE FUNCTION user_disable(p_user bigint, p_actor text, p_actor_user bigint)
    RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    auth text;
BEGIN
    UPDATE users u SET disabled_at = now() WHERE u.id = p_user AND u.disabled_at IS NULL
    RETURNING u.authority INTO auth;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    UPDATE sessions SET ended_at = now(), end_reason = 'user_disabled'
     WHERE user_id = p_user AND ended_at IS NULL;
    UPDATE user_setup_links SET expires_at = now()
     WHERE user_id = p_user AND used_at IS NULL AND expires_at > now();
    INSERT INTO audit_log (user_id, actor, action, authority, detail)
    VALUES (p_actor_user, p_actor, 'user.disable', auth, jsonb_build_object('user_id', p_user));
    RETURN true;
END $$;
