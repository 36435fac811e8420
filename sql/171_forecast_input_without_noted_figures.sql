-- A figure that carries a note (figure_notes, sql/170) is shown with its
-- note and left out of ranks, bands and summaries; it must not be fitted
-- on either.  Dorset's 2024 new plans within 20 weeks excluding exceptions
-- are 0 because the council classed every plan as an exception (the DfE's
-- footnote), not because it issued none in time: fitted as a real 0 it
-- made the next years' forecast 0.  Such a year is a gap in the series the
-- forecasts are fitted on, as a suppressed figure is.
CREATE OR REPLACE VIEW forecast_input AS
    SELECT c.authority, c.metric, c.period, c.period_kind, c.period_start, c.value
    FROM current_observations c
    WHERE c.value IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM metrics m WHERE m.id = c.metric AND NOT m.forecast)
      AND NOT EXISTS (SELECT 1 FROM figure_notes n WHERE n.authority = c.authority
                      AND n.metric = c.metric AND n.period = c.period)
    UNION ALL
    SELECT d.authority, d.metric, d.period, d.period_kind, d.period_start, d.value
    FROM derived_observations d
    WHERE d.value IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM figure_notes n WHERE n.authority = d.authority
                      AND n.metric = d.metric AND n.period = d.period);
