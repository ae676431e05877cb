package io.carousel.streams;

/**
 * Turns a key's forecast errors into a calibrated anomaly score in [0, 1], in the manner of
 * Numenta's anomaly likelihood (Ahmad et al., 2017): a per-event surprise, its short-window
 * average, and the tail probability of that average under its own long-run distribution.
 *
 * <ol>
 *   <li>Surprise: each target's error divided by its running RMS error (exponentially weighted
 *       over the long window), so the score is the same for a series and the series times 1e6; the
 *       event's surprise is the largest over targets.</li>
 *   <li>Short average: an exponentially weighted mean of surprises over the short window, so a
 *       single noisy point moves it by 1/short while a spike or a change of regime moves it a lot.</li>
 *   <li>Likelihood: the short average is standardised by the long-run mean and variance of the
 *       short average itself (not of raw surprises, whose variance is larger), and the score is the
 *       Gaussian CDF of that: the probability that the recent errors are not from the usual
 *       distribution. A threshold of 0.999 is then roughly a 0.1% false-alarm rate per event on
 *       well-behaved errors.</li>
 * </ol>
 * An event is flagged only when it pushes the short average up ({@link #rising}): after a spike
 * the average decays over the short window with scores still high, and the ordinary events of
 * that decay are not anomalies themselves.
 * Statistics update only after the score is computed, so a spike does not hide itself. Every
 * statistic is a fixed-size running estimate: the state is {@code 4 + O} doubles per key.
 * Until {@code anomaly.warmup-events} errors have been seen the key is not warm and flags nothing.
 */
final class Scoring {

    private static final int SHORT = 0;
    private static final int MEAN = 1;
    private static final int VAR = 2;
    private static final int COUNT = 3;
    private static final int MSE = 4;

    private final StreamSettings s;
    private boolean rising;
    private final double shortAlpha;
    private final double longAlpha;

    Scoring(StreamSettings settings) {
        this.s = settings;
        this.shortAlpha = 1.0 / settings.shortWindow();
        this.longAlpha = 1.0 / settings.longWindow();
    }

    int stateSize() {
        return MSE + s.outputs();
    }

    boolean isWarm(KeyState k) {
        return k.score[COUNT] >= s.warmupEvents();
    }

    /**
     * Scores one event's errors (actual - forecast per target), writes each target's deviation in
     * units of its usual error, and updates the statistics.
     */
    double update(KeyState k, double[] errors, double[] deviation) {
        double[] st = k.score;
        double n = st[COUNT];
        double surprise = 0;
        for (int j = 0; j < errors.length; j++) {
            double e = errors[j];
            double rms = Math.sqrt(st[MSE + j]);
            double floor = 1e-12 * Math.max(1.0, Math.abs(k.mean[j]));
            double z = n == 0 ? 0 : Math.abs(e) / Math.max(rms, floor);
            if (!Double.isFinite(z)) {
                z = 0;
            }
            deviation[j] = Math.copySign(Math.min(z, 1e6), e);
            surprise = Math.max(surprise, Math.min(z, 1e6));
        }
        double avg = n == 0 ? surprise : st[SHORT] + shortAlpha * (surprise - st[SHORT]);
        rising = avg > st[SHORT];
        double score = 0;
        if (n >= 2) {
            double sd = Math.sqrt(st[VAR]);
            double zAvg = (avg - st[MEAN]) / Math.max(sd, 1e-6 * Math.max(1.0, st[MEAN]));
            score = normalCdf(zAvg);
        }
        // learn from this event after scoring it
        double a = Math.max(longAlpha, 1.0 / (n + 1));
        st[SHORT] = avg;
        double d = avg - st[MEAN];
        st[MEAN] += a * d;
        st[VAR] = (1 - a) * (st[VAR] + a * d * d);
        for (int j = 0; j < errors.length; j++) {
            double e2 = errors[j] * errors[j];
            if (Double.isFinite(e2)) {
                st[MSE + j] += a * (e2 - st[MSE + j]);
            }
        }
        st[COUNT] = n + 1;
        return Double.isFinite(score) ? Math.min(1.0, Math.max(0.0, score)) : 0.0;
    }

    /** Whether the last scored event raised the short average (only such events are flagged). */
    boolean rising() {
        return rising;
    }

    /** Half the width of the next forecast's interval for target j: z times the running RMS error. */
    double halfWidth(KeyState k, int j) {
        return s.intervalZ() * Math.sqrt(k.score[MSE + j]);
    }

    /** The standard normal CDF (Abramowitz and Stegun 7.1.26 for erf; absolute error below 1.5e-7). */
    static double normalCdf(double z) {
        double x = Math.abs(z) / Math.sqrt(2);
        double t = 1 / (1 + 0.3275911 * x);
        double erf = 1 - t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
                * Math.exp(-x * x);
        return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
    }
}
