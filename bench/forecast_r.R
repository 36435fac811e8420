#!/usr/bin/env Rscript
# The R side of the forecast benchmark (bench/run.sh, section 4): R's
# forecast package fitting and choosing a model for each series that
# bench_forecast fitted (its --export CSV: metric,kind,authority,y with
# y = "v1;v2;...", NA = missing), the way sendbench's fc_auto does it:
#   - same gap handling: leading NAs dropped, interior NAs interpolated
#     (na.interp), trailing NAs extend the horizon;
#   - rolling-origin evaluation at every origin from the same shortest
#     training window (5 years when n >= 10, 4 when n >= 6, else 3) at
#     horizons 1-3, of naive, rwf(drift), ets (automatic ETS choice by
#     AICc), holt(damped), thetaf and auto.arima;
#   - the candidate with the lowest MASE is chosen and refitted on the whole
#     series for a 3-year forecast with 80/95% intervals.
# Series are taken in a fixed shuffled order until BUDGET CPU seconds are
# used (R is slow enough that all of them would take most of the bench's
# time); the result is CPU per series, over the series done.
#
#   Rscript bench/forecast_r.R series.csv [BUDGET_SECONDS]
#
# Prints "R_RESULT series_done=N series_total=M cpu_s=C cpu_per_series_ms=X
# forecast_pkg=V".
suppressPackageStartupMessages(library(forecast))
args <- commandArgs(trailingOnly = TRUE)
path <- args[1]
budget <- if (length(args) >= 2) as.numeric(args[2]) else Inf
sr <- read.csv(path, stringsAsFactors = FALSE, colClasses = "character")
set.seed(20250615)
order <- sample(seq_len(nrow(sr)))

H <- 3
methods <- list(
  naive       = function(y, h) naive(y, h = h, level = c(80, 95)),
  rwf_drift   = function(y, h) rwf(y, h = h, drift = TRUE, level = c(80, 95)),
  ets         = function(y, h) forecast(ets(y), h = h, level = c(80, 95)),
  holt_damped = function(y, h) holt(y, h = h, damped = TRUE, level = c(80, 95)),
  thetaf      = function(y, h) thetaf(y, h = h, level = c(80, 95)),
  auto_arima  = function(y, h) forecast(auto.arima(y), h = h, level = c(80, 95))
)
safe <- function(m, y, h) {
  fc <- tryCatch(methods[[m]](y, h), error = function(e) NULL)
  if (is.null(fc)) fc <- naive(y, h = h, level = c(80, 95))
  fc
}

cpu <- function() { t <- proc.time(); t[["user.self"]] + t[["sys.self"]] }
t0 <- cpu()
done <- 0
chosen <- character(0)
for (r in order) {
  if (cpu() - t0 > budget) break
  y <- suppressWarnings(as.numeric(strsplit(sr$y[r], ";", fixed = TRUE)[[1]]))
  obs <- which(!is.na(y))
  done <- done + 1
  if (length(obs) < 2) next
  trail <- length(y) - obs[length(obs)]
  y <- y[obs[1]:obs[length(obs)]]
  if (any(is.na(y))) y <- as.numeric(na.interp(ts(y)))
  n <- length(y)
  min_train <- if (n >= 10) 5 else if (n >= 6) 4 else 3
  score <- setNames(numeric(length(methods)), names(methods))
  cnt <- 0
  if (n > min_train) {
    for (o in min_train:(n - 1)) {
      tr <- ts(y[1:o])
      sc <- mean(abs(diff(y[1:o])))
      if (!is.finite(sc) || sc <= 0) next
      te <- y[(o + 1):min(n, o + H)]
      for (m in names(methods)) {
        f <- as.numeric(safe(m, tr, H)$mean)[seq_along(te)]
        score[m] <- score[m] + sum(abs(te - f)) / sc
      }
      cnt <- cnt + 1
    }
  }
  best <- if (cnt > 0) names(which.min(score)) else "rwf_drift"
  fc <- safe(best, ts(y), H + trail)
  chosen <- c(chosen, best)
}
el <- cpu() - t0
cat("chosen:", paste(names(table(chosen)), table(chosen), sep = "=", collapse = " "), "\n")
cat(sprintf("R_RESULT series_done=%d series_total=%d cpu_s=%.3f cpu_per_series_ms=%.3f forecast_pkg=%s\n",
            done, nrow(sr), el, 1000 * el / max(done, 1), as.character(packageVersion("forecast"))))
