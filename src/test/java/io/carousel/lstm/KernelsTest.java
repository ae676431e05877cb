package io.carousel.lstm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The vectorised squashing functions, held to java.lang.Math. */
class KernelsTest {

    private static final double ULP_1 = Math.ulp(1.0);

    /** n exponents: a dense grid over the clamp range and its edges, then random ones. */
    private static double[] exponents(int n) {
        double[] z = new double[n];
        SplittableRandom r = new SplittableRandom(3);
        for (int i = 0; i < n; i++) {
            z[i] = i < n / 2
                    ? -Kernels.EXP_LIMIT + 2 * Kernels.EXP_LIMIT * i / (n / 2 - 1)
                    : (r.nextDouble() * 2 - 1) * Kernels.EXP_LIMIT * (r.nextBoolean() ? 1 : 1e-6);
        }
        return z;
    }

    /**
     * The polynomial's result is within about one ulp, and raising it to the 64th power multiplies
     * its relative error by 64; the six squarings round once each, compounded: 64 + 63 ulp at most
     * (the worst measured over 4 million random exponents is 91).
     */
    @Test
    void expNegIsWithin127UlpsOfMathExpOverTheClampRange() {
        // odd lengths, so the JIT's vector loop and its scalar tail are both exercised
        for (int n : new int[] {1, 7, 160, 100_001}) {
            double[] z = exponents(n);
            double[] a = new double[n];
            for (int i = 0; i < n; i++) {
                a[i] = -z[i];
            }
            Kernels.expNeg(a, n);
            double worst = 0;
            for (int i = 0; i < n; i++) {
                double e = Math.exp(z[i]);
                worst = Math.max(worst, Math.abs(a[i] - e) / e);
            }
            assertTrue(worst < 127 * ULP_1, n + " exponents: worst relative error " + worst / ULP_1 + " ulp");
        }
    }

    @Test
    void expNegClampsBeyondTheLimitAndKeepsNaN() {
        double[] a = {-41, -1e300, Double.NEGATIVE_INFINITY, 41, 1e300, Double.POSITIVE_INFINITY, Double.NaN};
        Kernels.expNeg(a, a.length);
        double top = Math.exp(Kernels.EXP_LIMIT);
        double bottom = Math.exp(-Kernels.EXP_LIMIT);
        for (int i = 0; i < 3; i++) {
            assertEquals(top, a[i], 127 * Math.ulp(top));
        }
        for (int i = 3; i < 6; i++) {
            assertEquals(bottom, a[i], 127 * Math.ulp(bottom));
        }
        assertTrue(Double.isNaN(a[6]));
    }

    /**
     * 1 / (1 + e) and 2 / (1 + e) - 1 turn e's relative error into an absolute one of at most half
     * of it (at e = 1), so 64 ulp of 1 (1.4e-14).
     */
    @Test
    void activatedGatesAreSigmoidsAndATanhToWithin64UlpsOfOne() {
        int h = 37;
        SplittableRandom r = new SplittableRandom(5);
        double[] g = new double[4 * h];
        for (int i = 0; i < g.length; i++) {
            g[i] = i % 11 == 0 ? (r.nextBoolean() ? 1 : -1) * (30 + r.nextDouble() * 1e3) : r.nextGaussian() * 4;
        }
        double[] act = g.clone();
        Kernels.activateGates(act, h);
        for (int i = 0; i < g.length; i++) {
            boolean tanhGate = i >= 2 * h && i < 3 * h;
            double expected = tanhGate ? Math.tanh(g[i]) : 1 / (1 + Math.exp(-g[i]));
            // absolute: a gate multiplies O(1) values; past the clamp a sigmoid is within 5e-18 of 0
            assertEquals(expected, act[i], 64 * ULP_1, "gate " + i + " at " + g[i]);
            assertTrue(tanhGate ? Math.abs(act[i]) <= 1 : act[i] > 0 && act[i] <= 1, "in range at " + g[i]);
        }
    }

    @Test
    void tanhIsMathTanhToWithin64UlpsOfOneAndExactlyOneWhereItSaturates() {
        double[] x = exponents(1001);
        double[] t = x.clone();
        Kernels.tanh(t, t.length);
        for (int i = 0; i < x.length; i++) {
            assertEquals(Math.tanh(x[i]), t[i], 64 * ULP_1, "tanh(" + x[i] + ")");
        }
        double[] far = {21, -21, 1e200, -1e200, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY};
        Kernels.tanh(far, far.length);
        for (int i = 0; i < far.length; i++) {
            assertEquals(i % 2 == 0 ? 1.0 : -1.0, far[i], 0.0);
        }
    }
}
