package io.carousel.scoring;

/**
 * The standard normal distribution's tail and quantile, allocation-free. Java 17 has no erfc.
 *
 * <p>Accuracy is set by the use: tail probabilities around 1e-4 (the default threshold) need a
 * few significant digits, and the far tail must stay relatively accurate down to 1e-300 rather
 * than round to 0, so both approximations below are relative, not absolute.
 */
final class Normal {

    private static final double SQRT2 = Math.sqrt(2);

    private Normal() {
    }

    /**
     * Complementary error function, relative error below 1.2e-7 for every x (Chebyshev fit of
     * Press et al., Numerical Recipes, 2nd ed., section 6.2, {@code erfcc}). Underflows to 0 only
     * beyond x = 26.
     */
    static double erfc(double x) {
        double ax = Math.abs(x);
        double t = 1 / (1 + 0.5 * ax);
        double poly = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
                + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
                + t * (-0.82215223 + t * 0.17087277))))))));
        double r = t * Math.exp(-ax * ax + poly);
        return x >= 0 ? r : 2 - r;
    }

    /** Q(z) = P(N(0,1) >= z). */
    static double upperTail(double z) {
        return 0.5 * erfc(z / SQRT2);
    }

    /** P(|N(0,1)| >= |z|). */
    static double twoSidedTail(double z) {
        return erfc(Math.abs(z) / SQRT2);
    }

    // Acklam's rational approximation of the inverse normal CDF, relative error below 1.15e-9.
    private static final double[] A = {-3.969683028665376e+01, 2.209460984245205e+02,
        -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01,
        2.506628277459239e+00};
    private static final double[] B = {-5.447609879822406e+01, 1.615858368580409e+02,
        -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01};
    private static final double[] C = {-7.784894002430293e-03, -3.223964580411365e-01,
        -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00,
        2.938163982698783e+00};
    private static final double[] D = {7.784695709041462e-03, 3.224671290700398e-01,
        2.445134137142996e+00, 3.754408661907416e+00};
    private static final double P_LOW = 0.02425;

    /**
     * The z with P(N(0,1) <= z) = p; -infinity for p <= 0 and +infinity for p >= 1. The lower tail
     * is computed from p itself, so quantile(1e-300) is accurate: callers wanting an upper-tail
     * quantile for a small tail probability q should use -quantile(q), not quantile(1 - q).
     */
    static double quantile(double p) {
        if (!(p > 0)) {
            return Double.NEGATIVE_INFINITY;
        }
        if (p >= 1) {
            return Double.POSITIVE_INFINITY;
        }
        if (p < P_LOW) {
            return lowerTail(Math.sqrt(-2 * Math.log(p)));
        }
        if (p > 1 - P_LOW) {
            return -lowerTail(Math.sqrt(-2 * Math.log1p(-p)));
        }
        double q = p - 0.5;
        double r = q * q;
        return (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
                / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1);
    }

    private static double lowerTail(double q) {
        return (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
                / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1);
    }
}
