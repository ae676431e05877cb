package io.carousel.lstm;

/**
 * Small dense kernels shared by the stepper and BPTT.
 *
 * <p>The hot ones take a matrix as an array of rows ({@code double[][]}) and index every array in
 * the inner loop with the bare loop index: HotSpot's C2 (JDK 17) vectorises a loop only when it can
 * prove its loads and stores independent, and it can compare two array accesses only when their
 * index expressions have the same loop-invariant part; {@code g[gOff + r] += s * w[base + r]} over
 * one flat matrix compiles to scalar code, {@code g[r] += s * w[r]} to AVX vectors (checked in the
 * JIT's disassembly on JDK 17). Every kernel adds its terms in the same order as the plain loop it
 * replaces, so results are bit-identical (Java never fuses a multiply and an add on its own).
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
     * sigmoid, with exactly {@link Activations#sigmoid} and {@link Activations#tanh}'s arithmetic.
     * The exponentials come first, in their own loops (each a call into the JIT's exp stub), so the
     * divisions that follow run as vectors.
     */
    static void activateGates(double[] g, int h) {
        int h2 = 2 * h;
        int h3 = 3 * h;
        int h4 = 4 * h;
        for (int j = 0; j < h2; j++) {
            g[j] = Math.exp(-g[j]);
        }
        for (int j = h2; j < h3; j++) {
            g[j] = Math.exp(-2.0 * g[j]);
        }
        for (int j = h3; j < h4; j++) {
            g[j] = Math.exp(-g[j]);
        }
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
