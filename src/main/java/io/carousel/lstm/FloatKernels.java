package io.carousel.lstm;

/**
 * The float32 kernels of {@link LstmStepperF32}: the same shapes as {@link Kernels}' double ones,
 * written so that C2 runs them as vectors (bare loop indices, see {@link Kernels}), twice as many
 * lanes per vector as doubles.
 *
 * <p>The squashing functions are not exponentials here but one rational function: tanh as Eigen
 * and XLA compute it in float32 (an odd degree-13 polynomial over an even degree-6 one, on the
 * input clamped to [-9, 9], where tanh is within float's rounding of +-1), and
 * sigmoid(x) = (1 + tanh(x / 2)) / 2. Multiplies, adds, min, max and one divide: no call per element.
 * FloatKernelsTest holds tanh to {@link Math#tanh} and sigmoid to its double definition.
 */
final class FloatKernels {

    private FloatKernels() {}

    /** Beyond +-CLAMP, tanh in float32 is +-1 to within its rounding (tanh(9) = 1 - 3e-8). */
    static final float CLAMP = 9f;
    private static final float A1 = 4.89352455891786e-03f;
    private static final float A3 = 6.37261928875436e-04f;
    private static final float A5 = 1.48572235717979e-05f;
    private static final float A7 = 5.12229709037114e-08f;
    private static final float A9 = -8.60467152213735e-11f;
    private static final float A11 = 2.00018790482477e-13f;
    private static final float A13 = -2.76076847742355e-16f;
    private static final float B0 = 4.89352518554385e-03f;
    private static final float B2 = 2.26843463243900e-03f;
    private static final float B4 = 1.18534705686654e-04f;
    private static final float B6 = 1.19825839466702e-06f;

    /** tanh(x) for one float: small enough for C2 to inline into the vectorised loops below. */
    static float tanh(float x) {
        float z = Math.max(-CLAMP, Math.min(CLAMP, x));
        float z2 = z * z;
        float p = A13 * z2 + A11;
        p = p * z2 + A9;
        p = p * z2 + A7;
        p = p * z2 + A5;
        p = p * z2 + A3;
        p = p * z2 + A1;
        float q = B6 * z2 + B4;
        q = q * z2 + B2;
        q = q * z2 + B0;
        return z * p / q;
    }

    /**
     * g[r] += v[0] * rows[0][r] + ... + v[k-1] * rows[k-1][r] for r in [0, n), four rows per pass
     * over g (as {@link Kernels#axpyRows}).
     */
    static void axpyRows(float[] g, float[][] rows, float[] v, int k, int n) {
        int c = 0;
        for (; c + 3 < k; c += 4) {
            float s0 = v[c];
            float s1 = v[c + 1];
            float s2 = v[c + 2];
            float s3 = v[c + 3];
            float[] w0 = rows[c];
            float[] w1 = rows[c + 1];
            float[] w2 = rows[c + 2];
            float[] w3 = rows[c + 3];
            for (int r = 0; r < n; r++) {
                g[r] = g[r] + s0 * w0[r] + s1 * w1[r] + s2 * w2[r] + s3 * w3[r];
            }
        }
        for (; c < k; c++) {
            float s = v[c];
            float[] w = rows[c];
            for (int r = 0; r < n; r++) {
                g[r] += s * w[r];
            }
        }
    }

    /** a[j] = tanh(a[j]) for j in [0, n), NaN staying NaN. */
    static void tanh(float[] a, int n) {
        for (int j = 0; j < n; j++) {
            a[j] = tanh(a[j]);
        }
    }
}
