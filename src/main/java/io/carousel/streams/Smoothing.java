package io.carousel.streams;

/**
 * Simple exponential smoothing for the gate's smoothed source: the forecast of the next value is
 * the level {@code l <- l + a (x - l)}, the optimal forecast of a series that is noise around a
 * level doing a random walk (the local-level model; a = 1 is persistence). The weight is fitted to
 * a key's own recent values, or none when smoothing does not beat persistence there. No Kafka in it.
 *
 * <p>The fit: the weight in {@link #STEP}, 2 × {@link #STEP}, ... below 1 with the smallest
 * in-sample mean absolute one-step error (targets standardised by the key's scale, averaged over
 * targets), kept only when that error is below persistence's by at least
 * {@code max(MARGIN, NULL_ADVANTAGE / n)}. On a series where persistence is right (a random walk)
 * the best of the weights still beats it in sample by chance, by an advantage that shrinks about
 * as 1/n: over hundreds of simulated Gaussian random walks the largest was 6.5 % at n = 100,
 * 1.7 % at n = 300 and 0.3 % at n = 2,000. {@code 10 / n} stands well beyond that (10 % at 100,
 * 3.3 % at 300), and {@link #MARGIN}, 1 %, is the least advantage worth a source: a weight that
 * is really better beats persistence by more on any series with noise on its level. The gate,
 * not this fit, decides whether it serves.
 */
final class Smoothing {

    /** The grid of weights tried. */
    static final double STEP = 0.02;
    /** The least advantage over persistence, as a fraction of its error, for a weight to be kept. */
    static final double MARGIN = 0.01;
    /** Times 1/n: the advantage by which the best weight must beat persistence on n values (see above). */
    static final double NULL_ADVANTAGE = 10;

    private Smoothing() {
    }

    /**
     * The smoothing weight of a series, in (0, 1), or 0.
     *
     * @param v     [n][o] row-major values, oldest first
     * @param n     rows
     * @param o     targets per row
     * @param scale [o] the scale of each target (its errors are divided by it)
     */
    static double fit(double[] v, int n, int o, double[] scale) {
        if (n < Seasonality.MIN_VALUES) {
            return 0;
        }
        double persistence = error(v, n, o, scale, 1.0);
        if (!(persistence > 0) || !Double.isFinite(persistence)) {
            return 0;
        }
        double best = 0;
        double bestErr = Double.POSITIVE_INFINITY;
        int steps = (int) Math.round(1 / STEP);
        for (int i = 1; i < steps; i++) {
            double a = i * STEP;
            double e = error(v, n, o, scale, a);
            if (e < bestErr) {
                bestErr = e;
                best = a;
            }
        }
        double margin = Math.max(MARGIN, NULL_ADVANTAGE / n);
        return bestErr <= (1 - margin) * persistence ? best : 0;
    }

    /** The mean absolute one-step error of smoothing with weight {@code a}, the level starting at the first row. */
    static double error(double[] v, int n, int o, double[] scale, double a) {
        double sum = 0;
        for (int j = 0; j < o; j++) {
            double level = v[j];
            for (int t = 1; t < n; t++) {
                double x = v[t * o + j];
                sum += Math.abs(x - level) / scale[j];
                level += a * (x - level);
            }
        }
        return sum / ((double) (n - 1) * o);
    }
}
