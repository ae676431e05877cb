package io.carousel.lstm;

/**
 * Small dense kernels shared by the stepper and BPTT.
 *
 * <p>The hot ones take a matrix as an array of rows ({@code double[][]}) and index every array in
 * the inner loop with the bare loop index: HotSpot's C2 (JDK 17) vectorises a loop only when it can
 * prove its loads and stores independent, and it can compare two array accesses only when their
 * index expressions have the same loop-invariant part; {@code g[gOff + r] += s * w[base + r]} over
 * one flat matrix compiles to scalar code, {@code g[r] += s * w[r]} to AVX vectors (checked in the
 * JIT's disassembly on JDK 17). Every matrix kernel adds its terms in the same order as the plain
 * loop it replaces, so results are bit-identical (Java never fuses a multiply and an add on its
 * own); the squashing kernels replace {@link Math#exp} by a polynomial (see {@link #expNeg}).
 */
final class Kernels {

    private Kernels() {}

    /**
     * g[r] += v[0] * rows[0][r] + v[1] * rows[1][r] + ... + v[k-1] * rows[k-1][r], for r in [0, n),
     * the terms added one at a time in that order (as k separate axpy passes would); four rows per
     * pass over g, so g is loaded and stored a quarter as often.
     */
    static void axpyRows(double[] g, double[][] rows, double[] v, int k, int n) {
        int c = 0;
        for (; c + 3 < k; c += 4) {
            double s0 = v[c];
            double s1 = v[c + 1];
            double s2 = v[c + 2];
            double s3 = v[c + 3];
            double[] w0 = rows[c];
            double[] w1 = rows[c + 1];
            double[] w2 = rows[c + 2];
            double[] w3 = rows[c + 3];
            for (int r = 0; r < n; r++) {
                g[r] = g[r] + s0 * w0[r] + s1 * w1[r] + s2 * w2[r] + s3 * w3[r];
            }
        }
        for (; c < k; c++) {
            double s = v[c];
            double[] w = rows[c];
            for (int r = 0; r < n; r++) {
                g[r] += s * w[r];
            }
        }
    }

    /** rows[c][r] += v[c] * u[r] for c in [0, k), r in [0, n): a rank-one update of [k][n] rows. */
    static void addOuter(double[][] rows, double[] v, double[] u, int k, int n) {
        for (int c = 0; c < k; c++) {
            double s = v[c];
            double[] w = rows[c];
            for (int r = 0; r < n; r++) {
                w[r] += s * u[r];
            }
        }
    }

    /** acc[r] += u[r] for r in [0, n). */
    static void addTo(double[] acc, double[] u, int n) {
        for (int r = 0; r < n; r++) {
            acc[r] += u[r];
        }
    }

    /**
     * Activates LSTM pre-activations g [4H] in place, gates i, f, g, o: sigmoid, sigmoid, tanh,
     * sigmoid, as 1 / (1 + e^-x) and 2 / (1 + e^-2x) - 1 over {@link #expNeg}. The tanh gate's
     * inputs are doubled first (exactly), so that one exponential pass covers all 4H, and the
     * divisions that follow run as vectors too.
     */
    static void activateGates(double[] g, int h) {
        int h2 = 2 * h;
        int h3 = 3 * h;
        int h4 = 4 * h;
        for (int j = h2; j < h3; j++) {
            g[j] = 2.0 * g[j];
        }
        expNeg(g, h4);
        for (int j = 0; j < h2; j++) {
            g[j] = 1.0 / (1.0 + g[j]);
        }
        for (int j = h2; j < h3; j++) {
            g[j] = 2.0 / (1.0 + g[j]) - 1.0;
        }
        for (int j = h3; j < h4; j++) {
            g[j] = 1.0 / (1.0 + g[j]);
        }
    }

    /** a[j] = tanh(a[j]) for j in [0, n), as 2 / (1 + e^-2x) - 1 over {@link #expNeg}. */
    static void tanh(double[] a, int n) {
        for (int j = 0; j < n; j++) {
            a[j] = 2.0 * a[j];
        }
        expNeg(a, n);
        for (int j = 0; j < n; j++) {
            a[j] = 2.0 / (1.0 + a[j]) - 1.0;
        }
    }

    /**
     * The exponent is clamped to [-EXP_LIMIT, EXP_LIMIT]: beyond it a sigmoid or tanh is 0 or 1 to
     * within 5e-18, and a tanh's double value is exactly +-1 (tanh(20) is 1 - 8.5e-18).
     */
    static final double EXP_LIMIT = 40.0;
    // the Taylor coefficients 1/k!, each its own constant (C2 folds static final fields, not array elements)
    private static final double F0 = invFactorial(0);
    private static final double F1 = invFactorial(1);
    private static final double F2 = invFactorial(2);
    private static final double F3 = invFactorial(3);
    private static final double F4 = invFactorial(4);
    private static final double F5 = invFactorial(5);
    private static final double F6 = invFactorial(6);
    private static final double F7 = invFactorial(7);
    private static final double F8 = invFactorial(8);
    private static final double F9 = invFactorial(9);
    private static final double F10 = invFactorial(10);
    private static final double F11 = invFactorial(11);
    private static final double F12 = invFactorial(12);
    private static final double F13 = invFactorial(13);
    private static final double F14 = invFactorial(14);
    private static final double F15 = invFactorial(15);
    private static final double F16 = invFactorial(16);

    /** 1 / k!, rounded once: k! is exact in a double up to k = 18. */
    private static double invFactorial(int k) {
        double f = 1.0;
        for (int i = 2; i <= k; i++) {
            f *= i;
        }
        return 1.0 / f;
    }

    /**
     * a[j] = e^-a[j] for j in [0, n), the exponent clamped to [-EXP_LIMIT, EXP_LIMIT] (NaN stays NaN).
     *
     * <p>In arithmetic that vectorises: {@link Math#exp} is a call per element (a JIT stub, about
     * 5 ns), and an LSTM step makes 5H of them, more than half of the step's time at H = 32. Here
     * e^z = (e^(z/64))^64: z/64 lies in [-0.625, 0.625], where the Taylor series to degree 16 is
     * exact to 2e-18, then six squarings. Only multiplies, adds and min/max, so C2 runs the loop
     * as AVX vectors (an LSTM step at H = 32 went from 1.7 to 1.2 µs in LstmStepBench). The
     * relative error is at most 127 ulp (2.8e-14; 91 is the worst measured, and KernelsTest holds
     * it to Math.exp), against float32's 1e-7 in PyTorch's default LSTM; the stepper and BPTT
     * share this code, so they stay bit-identical.
     */
    static void expNeg(double[] a, int n) {
        for (int j = 0; j < n; j++) {
            double z = Math.max(-EXP_LIMIT, Math.min(EXP_LIMIT, -a[j])) * 0.015625;
            double p = F16 * z + F15;
            p = p * z + F14;
            p = p * z + F13;
            p = p * z + F12;
            p = p * z + F11;
            p = p * z + F10;
            p = p * z + F9;
            p = p * z + F8;
            p = p * z + F7;
            p = p * z + F6;
            p = p * z + F5;
            p = p * z + F4;
            p = p * z + F3;
            p = p * z + F2;
            p = p * z + F1;
            p = p * z + F0;
            p *= p;
            p *= p;
            p *= p;
            p *= p;
            p *= p;
            a[j] = p * p;
        }
    }

    /** rows[c][r] = src[offset + r*cols + c]: the transpose of a [rows][cols] block, as row arrays. */
    static void transposeRows(double[] src, int offset, int rows, int cols, double[][] dst, int dstRow) {
        for (int r = 0; r < rows; r++) {
            int s = offset + r * cols;
            for (int c = 0; c < cols; c++) {
                dst[dstRow + c][r] = src[s + c];
            }
        }
    }

    /** rows[dstRow + r] = src[offset + r*cols .. + cols): a [rows][cols] block copied as row arrays. */
    static void copyRows(double[] src, int offset, int rows, int cols, double[][] dst, int dstRow) {
        for (int r = 0; r < rows; r++) {
            System.arraycopy(src, offset + r * cols, dst[dstRow + r], 0, cols);
        }
    }

    /** dst[offset + r*cols + c] = rows[srcRow + c][r]: the inverse of {@link #transposeRows}. */
    static void untransposeRows(double[][] src, int srcRow, int rows, int cols, double[] dst, int offset) {
        for (int r = 0; r < rows; r++) {
            int d = offset + r * cols;
            for (int c = 0; c < cols; c++) {
                dst[d + c] = src[srcRow + c][r];
            }
        }
    }

    /** A [k][n] matrix as k row arrays. */
    static double[][] rows(int k, int n) {
        double[][] m = new double[k][];
        for (int c = 0; c < k; c++) {
            m[c] = new double[n];
        }
        return m;
    }
}
