package io.carousel.lstm;

/**
 * One inference step of a model for one key in float32: the stream's hot path. Allocates nothing
 * per call.
 *
 * <p>What {@link LstmStepper} computes, in PyTorch's default precision: the weights as floats
 * (what a model file holds anyway: Carousel writes F32), the gates, c and h in float arithmetic, the
 * input converted once and the head summed in double. A key's h and c are the floats its state
 * stores, stepped in place. Half the bytes of weights to read and twice the lanes per vector of the
 * double stepper, which stays the reference: training, {@code model forward} and the PyTorch float64
 * parity run in double. This one is held to PyTorch's float32 forward and to the double stepper
 * (LstmStepperF32Test).
 *
 * <p>Same layout as {@link LstmStepper}: per layer the rows of {@code [W_ih | W_hh]^T}, D_in + H
 * arrays of 4H floats, and the two biases summed once. Bound to the weights at construction; not
 * thread-safe (scratch buffers): one per thread.
 */
public final class LstmStepperF32 {

    private final LstmShape shape;
    private final int hidden;
    private final float[][][] wT; // per layer [D_in + H][4H]: rows of W_ih^T, then of W_hh^T
    private final float[][] bias; // per layer [4H] = bias_ih + bias_hh
    private final float[] headW;  // [O][H]
    private final double[] headB; // [O]
    private final float[] gates;  // scratch [4H]
    private final float[] gf;     // scratch [H]: the forget gate's tanh(z/2)
    private final float[] gg;     // scratch [H]: the cell gate's tanh(z)
    private final float[] go;     // scratch [H]: the output gate's tanh(z/2)
    private final float[] c;      // scratch [H]: the layer's c, then its new c
    private final float[] hNew;   // scratch [H]: the layer's new h
    private final float[] xh;     // scratch [max D_in + H]: a layer's input, then its h

    public LstmStepperF32(LstmModel model) {
        LstmStepper layout = new LstmStepper(model); // the double stepper's layout, in floats
        this.shape = model.shape();
        this.hidden = shape.hiddenSize();
        int layers = shape.layers();
        wT = new float[layers][][];
        bias = new float[layers][];
        for (int l = 0; l < layers; l++) {
            wT[l] = new float[layout.wT[l].length][];
            for (int row = 0; row < wT[l].length; row++) {
                wT[l][row] = floats(layout.wT[l][row]);
            }
            bias[l] = floats(layout.bias[l]); // bias_ih + bias_hh summed in double, rounded once
            halveSigmoidRows(wT[l], bias[l], hidden);
        }
        headW = floats(layout.headW);
        headB = layout.headB;
        gates = new float[LstmModel.GATES * hidden];
        gf = new float[hidden];
        gg = new float[hidden];
        go = new float[hidden];
        c = new float[hidden];
        hNew = new float[hidden];
        xh = new float[layout.xh.length];
    }

    private static float[] floats(double[] a) {
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            f[i] = (float) a[i];
        }
        return f;
    }

    public LstmShape shape() {
        return shape;
    }

    /**
     * sigmoid(z) = (1 + tanh(z / 2)) / 2: the gates i, f and o (rows [0, 2H) and [3H, 4H) of every
     * column) are scaled by 1/2 here, once, so that one tanh pass over all 4H pre-activations serves
     * every gate. A power of two: the scaled sums are exactly half the unscaled ones.
     */
    private static void halveSigmoidRows(float[][] columns, float[] bias, int h) {
        for (float[] w : columns) {
            halve(w, h);
        }
        halve(bias, h);
    }

    private static void halve(float[] w, int h) {
        for (int r = 0; r < 4 * h; r++) {
            if (r < 2 * h || r >= 3 * h) {
                w[r] *= 0.5f;
            }
        }
    }

    /**
     * Steps one key once: updates its h and c in place and writes the head's output.
     *
     * @param x     input, {@code x[xOff .. xOff+D)}; not modified
     * @param state the key's state, {@code state[sOff .. sOff + 2*layers*H)}: h of every layer, then
     *              c of every layer; updated in place
     * @param out   receives the head's outputs at {@code out[oOff .. oOff+O)}
     */
    public void step(double[] x, int xOff, float[] state, int sOff, double[] out, int oOff) {
        int h = hidden;
        int gh = LstmModel.GATES * h;
        int cBase = sOff + shape.layers() * h;
        float[] g = gates;
        float[] v = xh;
        for (int l = 0; l < shape.layers(); l++) {
            int din = shape.layerInput(l);
            int hOff = sOff + l * h;
            int cOff = cBase + l * h;
            // input: layer 0 reads x, layer l > 0 reads the new h of layer l-1 (already in state)
            if (l == 0) {
                for (int i = 0; i < din; i++) {
                    v[i] = (float) x[xOff + i];
                }
            } else {
                System.arraycopy(state, sOff + (l - 1) * h, v, 0, din);
            }
            System.arraycopy(state, hOff, v, din, h);
            System.arraycopy(bias[l], 0, g, 0, gh);
            FloatKernels.axpyRows(g, wT[l], v, din + h, gh);
            // g holds tanh(z/2) for the gates i, f, o (their rows are halved) and tanh(z) for g
            FloatKernels.tanh(g, gh);
            // C2 vectorises a loop only when all its loads and stores use the bare index (it cannot
            // tell two float arrays apart): the gates f, g, o and the key's c are copied to slices first
            System.arraycopy(g, h, gf, 0, h);
            System.arraycopy(g, 2 * h, gg, 0, h);
            System.arraycopy(g, 3 * h, go, 0, h);
            System.arraycopy(state, cOff, c, 0, h);
            for (int j = 0; j < h; j++) {
                float cj = (0.5f + 0.5f * gf[j]) * c[j] + (0.5f + 0.5f * g[j]) * gg[j];
                c[j] = cj;
                hNew[j] = (0.5f + 0.5f * go[j]) * FloatKernels.tanh(cj);
            }
            System.arraycopy(c, 0, state, cOff, h);
            System.arraycopy(hNew, 0, state, hOff, h);
        }
        int top = sOff + (shape.layers() - 1) * h;
        for (int o = 0; o < shape.outputSize(); o++) {
            double s = headB[o];
            int w = o * h;
            for (int j = 0; j < h; j++) {
                s += (double) headW[w + j] * state[top + j];
            }
            out[oOff + o] = s;
        }
    }
}
