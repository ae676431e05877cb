package io.carousel.lstm;

/** Small dense kernels over flat row-major arrays, shared by the stepper and BPTT. */
final class Kernels {

    private Kernels() {}

    /**
     * g[gOff + r] += sum_c v[vOff + c] * wT[c*n + r], for r in [0, n): a matrix-vector product with
     * a transposed matrix wT [k][n], written as k contiguous axpy loops the JIT vectorises.
     */
    static void axpyRows(double[] g, int gOff, double[] wT, double[] v, int vOff, int k, int n) {
        for (int c = 0; c < k; c++) {
            double s = v[vOff + c];
            int base = c * n;
            for (int r = 0; r < n; r++) {
                g[gOff + r] += s * wT[base + r];
            }
        }
    }

    /** dst [cols][rows] = transpose of src[offset ..] viewed as [rows][cols]. */
    static void transposeInto(double[] src, int offset, int rows, int cols, double[] dst) {
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                dst[c * rows + r] = src[offset + r * cols + c];
            }
        }
    }
}
