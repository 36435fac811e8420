-- What the forecast worker fits for the High Needs plan (issue 17).
--
-- 1. The High Needs Benchmarking Tool's figures (hnbt_*: placements, budget
--    and cost lines, 19 metrics) are one financial year, 2021-22 (the
--    outturn line one more, taken as 2020-21).  A single point is no
--    history: any "forecast" of it is the point repeated with an interval
--    made up by the pooled model's other series.  They are inputs of the
--    High Needs trajectory (forecasts/hn_projection.c), which grows them
--    with forecasts of series that have a history, so they are not fitted.
--    Forecasts stored for them before are derived output, not figures:
--    they are removed so that no reply serves one.
--
-- 2. Placements by setting are forecast setting by setting from SEN2's
--    plans in place by setting (January 2019-2025, every authority; 021
--    left them out of the worker).  The trajectory grows each HNBT setting
--    with its own setting's forecast (pooled across authorities, with its
--    80% interval) instead of the total caseload's.  Only the six counts
--    are fitted; their shares and the "of which resourced provision" line
--    are not.
UPDATE metrics SET forecast = false WHERE id LIKE 'hnbt\_%';
UPDATE metrics SET forecast = true
 WHERE id IN ('plans_mainstream', 'plans_special_state', 'plans_special_independent',
              'plans_ap_pru', 'plans_post16', 'plans_elsewhere');

DELETE FROM forecasts WHERE metric LIKE 'hnbt\_%';
DELETE FROM forecast_runs WHERE metric LIKE 'hnbt\_%';
