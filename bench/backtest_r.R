#!/usr/bin/env Rscript
# R's forecast package on exactly the splits bench/backtest_panel wrote
# (bench/results/splits.csv): naive, rwf(drift), ets, holt(damped), thetaf,
# auto.arima.  Same gap handling as ours (leading NAs dropped, interior NAs
# linearly interpolated by na.interp, trailing NAs extend the horizon), same
# scoring: MASE with the in-sample lag-1 scale of the training window,
# sMAPE, 80%/95% coverage, Winkler (a = 0.05), MSIS.  A method that errors
# on a split (e.g. holt damped on 3 points) is replaced by naive for that
# split and counted under "fallbacks".
# Splits carry a set: "tune" (origins 2019-2022, targets to 2023) and "oos"
# (origin 2023, scored on what followed); each set is reported on its own.
#
#   Rscript bench/backtest_r.R [bench/results/splits.csv] [SET...]
suppressPackageStartupMessages(library(forecast))
args <- commandArgs(trailingOnly = TRUE)
path <- if (length(args) >= 1) args[1] else "bench/results/splits.csv"
sp <- read.csv(path, stringsAsFactors = FALSE, colClasses = "character")
sets <- if (length(args) >= 2) args[-1] else unique(sp$set)
sp <- sp[sp$set %in% sets, ]

methods <- list(
  naive      = function(y, h) naive(y, h = h, level = c(80, 95)),
  rwf_drift  = function(y, h) rwf(y, h = h, drift = TRUE, level = c(80, 95)),
  ets        = function(y, h) forecast(ets(y), h = h, level = c(80, 95)),
  holt_damped = function(y, h) holt(y, h = h, damped = TRUE, level = c(80, 95)),
  thetaf     = function(y, h) thetaf(y, h = h, level = c(80, 95)),
  auto_arima = function(y, h) forecast(auto.arima(y), h = h, level = c(80, 95))
)

num <- function(s) suppressWarnings(as.numeric(strsplit(s, ";", fixed = TRUE)[[1]]))
winkler <- function(lo, hi, y, a) (hi - lo) + (2 / a) * pmax(lo - y, 0) + (2 / a) * pmax(y - hi, 0)

acc <- list()
t0 <- proc.time()
for (r in seq_len(nrow(sp))) {
  train <- num(sp$train[r]); test <- num(sp$test[r])
  obs <- which(!is.na(train))
  if (length(obs) == 0) next
  d <- diff(train)
  scale <- mean(abs(d[!is.na(d)]))
  if (!is.finite(scale) || scale <= 0) next
  y <- train[obs[1]:obs[length(obs)]]
  trail <- length(train) - obs[length(obs)]
  if (any(is.na(y))) y <- as.numeric(na.interp(ts(y)))
  H <- length(test) + trail
  y <- ts(y)
  for (m in names(methods)) {
    fb <- 0
    fc <- tryCatch(methods[[m]](y, H), error = function(e) NULL)
    # an error, or intervals R cannot compute (rwf drift on 2 points):
    # naive for this split, counted as a fallback
    if (is.null(fc) || any(!is.finite(as.numeric(fc$upper[, 2])))) {
      fc <- naive(y, h = H, level = c(80, 95)); fb <- 1
    }
    idx <- trail + seq_along(test)
    f <- as.numeric(fc$mean)[idx]
    lo80 <- as.numeric(fc$lower[, 1])[idx]; hi80 <- as.numeric(fc$upper[, 1])[idx]
    lo95 <- as.numeric(fc$lower[, 2])[idx]; hi95 <- as.numeric(fc$upper[, 2])[idx]
    ok <- !is.na(test)
    key <- paste(sp$set[r], sp$metric[r], m, sep = "|")
    a <- acc[[key]]
    if (is.null(a)) a <- c(mase = 0, smape = 0, c80 = 0, c95 = 0, wink = 0, msis = 0, n = 0, fb = 0)
    yt <- test[ok]; ff <- f[ok]
    den <- abs(yt) + abs(ff)
    w <- winkler(lo95[ok], hi95[ok], yt, 0.05)
    a["mase"] <- a["mase"] + sum(abs(yt - ff) / scale)
    a["smape"] <- a["smape"] + sum(ifelse(den > 0, 200 * abs(yt - ff) / den, 0))
    a["c80"] <- a["c80"] + sum(yt >= lo80[ok] & yt <= hi80[ok])
    a["c95"] <- a["c95"] + sum(yt >= lo95[ok] & yt <= hi95[ok])
    a["wink"] <- a["wink"] + sum(w)
    a["msis"] <- a["msis"] + sum(w / scale)
    a["n"] <- a["n"] + sum(ok)
    a["fb"] <- a["fb"] + fb
    acc[[key]] <- a
  }
}
el <- proc.time() - t0
for (set in sets) for (metric in unique(sp$metric[sp$set == set])) {
  cat(sprintf("\n## %s, %s (R forecast %s)\n\n", metric, set, packageVersion("forecast")))
  cat("| method | MASE | sMAPE | cover80 | cover95 | Winkler95 | MSIS | n | fallbacks |\n")
  cat("|---|---|---|---|---|---|---|---|---|\n")
  for (m in names(methods)) {
    a <- acc[[paste(set, metric, m, sep = "|")]]
    if (is.null(a)) next
    n <- a["n"]
    cat(sprintf("| %s | %.3f | %.2f | %.1f | %.1f | %.1f | %.2f | %d | %d |\n", m,
                a["mase"] / n, a["smape"] / n, 100 * a["c80"] / n, 100 * a["c95"] / n,
                a["wink"] / n, a["msis"] / n, as.integer(n), as.integer(a["fb"])))
  }
}
cat(sprintf("\nCPU seconds (R, all methods, all splits): %.1f\n", el[["user.self"]] + el[["sys.self"]]))
