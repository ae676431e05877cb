package io.carousel.streams;

/**
 * Season detection for the seasonal-naive forecast (the value one season ago): from a key's own
 * recent values, the lag, in events, at which the series best repeats itself, or 0 when it does
 * not repeat clearly better than it persists. No Kafka in it.
 *
 * <p>For every lag L in 1..n/2 the mean absolute difference {@code D(L) = mean |x[t] - x[t-L]|}
 * (targets standardised by the key's scale, averaged over targets) is the in-sample error of the
 * L-step seasonal-naive forecast; D(1) is persistence's. The best lag is the L in 2..n/2 with the
 * smallest D; the season is the smallest divisor of it (>= 2) whose D is within {@link #TIE} of
 * that (a series that repeats every P events also repeats every 2P, and noise may favour 2P by a
 * hair), kept only when {@code D(best) <= (1 - margin(n)) * D(1)} with
 * {@code margin(n) = max(MIN_MARGIN, NOISE_SE / sqrt(n / 2))}. Why that rule:
 * <ul>
 * <li>The minimum is taken over up to n/2 lags, so on a series with no season at all (white
 * noise, where every lag is alike) it still lands below D(1) by chance. Each D is a mean of at
 * least n/2 absolute differences; for Gaussian noise the relative standard error of the
 * difference of two such means is about {@code 0.755 * sqrt(2) / sqrt(n/2) = 1.07 / sqrt(n/2)},
 * and the smallest of ~n/2 of them lies about 3.5 standard errors out (for n = 2,000); so a lag
 * must beat lag 1 by more than {@code 3.75 / sqrt(n/2)} (≈ 12 % at n = 2,000, 24 % at n = 500)
 * before the difference is evidence rather than selection.</li>
 * <li>Below that, {@link #MIN_MARGIN} (20 %): the candidate costs a store read per event, and
 * the gate only switches for a 5 % advantage anyway, so a season is worth keeping only where it
 * is plainly better than persistence in sample.</li>
 * </ul>
 * A random walk's D grows as sqrt(L) and never qualifies; a constant series (D(1) = 0) has no
 * season (persistence is exact). The gate, not this test, decides whether the seasonal forecast
 * serves: detection only admits it as a candidate.
 */
final class Seasonality {

    /** Lags whose error is within this fraction of the smallest count as ties (the smallest lag wins). */
    static final double TIE = 0.05;
    /** The least advantage over persistence, as a fraction of D(1), for a season to be kept. */
    static final double MIN_MARGIN = 0.2;
    /** Standard errors (times sqrt(n/2)) by which a selected lag must beat lag 1: 3.5 × 1.07. */
    static final double NOISE_SE = 3.75;
    /** Fewest values to look for a season in: two cycles of the shortest season, and enough to judge. */
    static final int MIN_VALUES = 64;

    private Seasonality() {
    }

    /**
     * The season of a series, in events, or 0.
     *
     * @param v     [n][o] row-major values, oldest first, consecutive events
     * @param n     rows
     * @param o     targets per row
     * @param scale [o] the scale of each target (its errors are divided by it)
     */
    static int detect(double[] v, int n, int o, double[] scale) {
        if (n < MIN_VALUES) {
            return 0;
        }
        int maxLag = n / 2;
        double[] d = new double[maxLag + 1];
        for (int lag = 1; lag <= maxLag; lag++) {
            double sum = 0;
            for (int t = lag; t < n; t++) {
                for (int j = 0; j < o; j++) {
                    sum += Math.abs(v[t * o + j] - v[(t - lag) * o + j]) / scale[j];
                }
            }
            d[lag] = sum / ((double) (n - lag) * o);
        }
        double d1 = d[1];
        if (!(d1 > 0) || !Double.isFinite(d1)) {
            return 0;
        }
        int best = 2;
        for (int lag = 3; lag <= maxLag; lag++) {
            if (d[lag] < d[best]) {
                best = lag;
            }
        }
        double margin = Math.max(MIN_MARGIN, NOISE_SE / Math.sqrt(n / 2.0));
        if (!(d[best] <= (1 - margin) * d1)) {
            return 0;
        }
        // a series that repeats every P events also repeats every 2P, 3P, ...: the smallest
        // divisor of the best lag that repeats as well (within TIE) is the season
        double tie = d[best] * (1 + TIE) + 1e-12 * d1;
        for (int lag = 2; lag < best; lag++) {
            if (best % lag == 0 && d[lag] <= tie) {
                return lag;
            }
        }
        return best;
    }
}
