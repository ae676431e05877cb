package io.carousel.streams;

import io.carousel.lstm.LstmBptt;
import io.carousel.lstm.LstmModel;
import io.carousel.lstm.Optimizer;
import io.carousel.lstm.SeriesTrainer;

/**
 * Trains one model on one snapshot of history and validates the result; pure computation, safe
 * on any thread (the job owns copies of everything it reads).
 *
 * <p>The last fifth of the series (at least one window) is held out. The candidate is trained on
 * the rest, then both the candidate and what is serving now are scored by one-step MSE over the
 * held-out steps, in normalised units, after running from zero state over everything before them.
 * A candidate is accepted when its weights are finite and its loss is at most
 * {@code (1 + retrain.max-regression)} times the lower of the serving model's and persistence's
 * over the same steps (persistence alone while the key is untrained): the tolerance lets a refresh
 * on newer data replace a model it nearly matches, and the persistence bar keeps a chain of such
 * refreshes from drifting below a forecast of the last value. Which of the two then serves each
 * event is the forecast gate's call ({@link KeyForecaster}).
 */
final class Retrainer {

    /** Everything training needs, copied off the stream thread's state. */
    record Job(String modelId, LstmModel start, LstmModel serving, long servingVersion, double[] series, int[] ends,
               long spanStart, long spanEnd, long now, boolean changeTarget) {
        /** A job for a model that forecasts levels (model.target=level). */
        Job(String modelId, LstmModel start, LstmModel serving, long servingVersion, double[] series, int[] ends,
            long spanStart, long spanEnd, long now) {
            this(modelId, start, serving, servingVersion, series, ends, spanStart, spanEnd, now, false);
        }

        /** Rows in all: the series is one key's, or several keys' stacked (segment i ends at ends[i]). */
        int rows() {
            return ends[ends.length - 1];
        }

        /** Whether what serves is a trained model (else persistence serves, the bar to beat). */
        boolean servingTrained() {
            return Served.trained(serving, servingVersion);
        }
    }

    /** The outcome: {@code model} is null when the candidate was rejected ({@code reason} says why). */
    record Result(Job job, LstmModel model, double trainLoss, double valLoss, double servingValLoss, String reason,
                  long nanos) {
        boolean accepted() {
            return model != null;
        }
    }

    private Retrainer() {}

    static Result run(Job job, RetrainSettings s) {
        long t0 = System.nanoTime();
        LstmModel m = job.start();
        int d = m.shape().inputSize();
        int rows = job.rows();
        int holdout = holdoutRows(rows, s.seqLen());
        int trainRows = rows - holdout;
        SeriesTrainer.Settings ts = new SeriesTrainer.Settings(Math.min(s.seqLen(), trainRows - 1), s.batch(), s.epochs(),
                s.clip(), Math.max(1, Math.min(s.seqLen(), trainRows - 1) / 8), s.loss());
        int[] trainEnds = java.util.Arrays.stream(job.ends()).map(e -> Math.min(e, trainRows)).distinct().toArray();
        double trainLoss = new SeriesTrainer(m, Optimizer.adam(m.parameterCount(), s.lr()), ts)
                .train(job.series(), trainEnds, 0, null);
        if (!m.isFinite() || !Double.isFinite(trainLoss)) {
            return new Result(job, null, trainLoss, Double.NaN, Double.NaN, "training diverged (non-finite weights or loss)",
                    System.nanoTime() - t0);
        }
        double val = holdoutMse(m, job.series(), rows, trainRows);
        double persistence = job.changeTarget() ? zeroChangeMse(job.series(), d, m.shape().outputSize(), rows, trainRows)
                : persistenceMse(job.series(), d, m.shape().outputSize(), rows, trainRows);
        double serving = job.servingTrained() ? holdoutMse(job.serving(), job.series(), rows, trainRows) : persistence;
        long nanos = System.nanoTime() - t0;
        if (!Double.isFinite(val)) {
            return new Result(job, null, trainLoss, val, serving, "validation loss is not finite", nanos);
        }
        // the bar is the better of the serving model and persistence, which is free and always
        // there: measured against the serving model alone, each accepted candidate could be a little
        // worse than the last, and a chain of them drift below persistence
        boolean persistenceBetter = persistence < serving;
        double bar = Math.min(serving, persistence);
        if (val > bar * (1 + s.maxRegression())) {
            return new Result(job, null, trainLoss, val, serving, String.format(java.util.Locale.ROOT,
                    "validation loss %.4g is worse than %s %.4g by more than retrain.max-regression=%s", val,
                    persistenceBetter ? "persistence's" : "the serving model's", bar, s.maxRegression()), nanos);
        }
        return new Result(job, m, trainLoss, val, serving, null, nanos);
    }

    /** The newest rows a candidate is judged on: a fifth of the series, at least one window (at most half). */
    static int holdoutRows(long rows, int seqLen) {
        return (int) Math.max(rows / 5, Math.min(seqLen, rows / 2));
    }

    /** One-step MSE of the model's forecasts over rows [from, rows-1), running from zero state over all rows. */
    static double holdoutMse(LstmModel model, double[] series, int rows, int from) {
        int d = model.shape().inputSize();
        int o = model.shape().outputSize();
        double[] out = new double[rows * o];
        new LstmBptt(model).forward(series, 1, rows, null, null, out, null, null);
        double sum = 0;
        int n = 0;
        for (int t = from - 1; t < rows - 1; t++) {
            for (int j = 0; j < o; j++) {
                double e = out[t * o + j] - series[(t + 1) * d + j];
                sum += e * e;
                n++;
            }
        }
        return sum / n;
    }

    /**
     * Persistence's loss with model.target=change, where the targets are the changes: a forecast
     * change of zero.
     */
    static double zeroChangeMse(double[] series, int d, int o, int rows, int from) {
        double sum = 0;
        int n = 0;
        for (int t = from - 1; t < rows - 1; t++) {
            for (int j = 0; j < o; j++) {
                double e = series[(t + 1) * d + j];
                sum += e * e;
                n++;
            }
        }
        return sum / n;
    }

    /** The same loss for persistence: the next value forecast as the current one. */
    static double persistenceMse(double[] series, int d, int o, int rows, int from) {
        double sum = 0;
        int n = 0;
        for (int t = from - 1; t < rows - 1; t++) {
            for (int j = 0; j < o; j++) {
                double e = series[t * d + j] - series[(t + 1) * d + j];
                sum += e * e;
                n++;
            }
        }
        return sum / n;
    }
}
