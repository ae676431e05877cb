package io.carousel.lstm;

/**
 * One time step of a model for one key, the stream's hot path: allocates nothing per call.
 *
 * <p>The weights are copied once into a transposed, gate-contiguous layout: per layer, the rows of
 * {@code [W_ih | W_hh]^T}, D_in + H separate arrays of 4H doubles, so that the matrix-vector product
 * over the concatenated input {@code [x; h]} is a sequence of axpy loops over 4H contiguous doubles,
 * which the JIT vectorises (see {@link Kernels}); the two bias vectors are summed once. A stepper is bound to the model's
 * weights at construction: build a new one when the weights change. Not thread-safe (it owns a
 * scratch buffer): one per thread.
 *
 * <p>A key's state is {@code double[2 * layers * H]}: h of every layer, then c of every layer
 * (PyTorch's (h_n, c_n) for a batch of one, flattened).
 */
public final class LstmStepper {

    private final LstmShape shape;
    private final int hidden;
    final double[][][] wT; // per layer [D_in + H][4H]: rows of W_ih^T, then of W_hh^T
    final double[][] bias; // per layer [4H] = bias_ih + bias_hh
    final double[] headW; // [O][H]
    final double[] headB; // [O]
    private final double[] gates; // scratch [4H]
    private final double[] tanhC; // scratch [H]: the new c, then tanh(c)
    final double[] xh;    // scratch [max D_in + H]: a layer's input, then its h

    public LstmStepper(LstmModel model) {
        this.shape = model.shape();
        this.hidden = shape.hiddenSize();
        ParamLayout lay = model.layout();
        double[] p = model.params();
        int gh = LstmModel.GATES * hidden;
        int layers = shape.layers();
        wT = new double[layers][][];
        bias = new double[layers][gh];
        int maxIn = 0;
        for (int l = 0; l < layers; l++) {
            int din = shape.layerInput(l);
            maxIn = Math.max(maxIn, din);
            wT[l] = Kernels.rows(din + hidden, gh);
            Kernels.transposeRows(p, lay.weightIh(l), gh, din, wT[l], 0);
            Kernels.transposeRows(p, lay.weightHh(l), gh, hidden, wT[l], din);
            for (int r = 0; r < gh; r++) {
                bias[l][r] = p[lay.biasIh(l) + r] + p[lay.biasHh(l) + r];
            }
        }
        headW = java.util.Arrays.copyOfRange(p, lay.headWeight(), lay.headWeight() + shape.outputSize() * hidden);
        headB = java.util.Arrays.copyOfRange(p, lay.headBias(), lay.headBias() + shape.outputSize());
        gates = new double[gh];
        tanhC = new double[hidden];
        xh = new double[maxIn + hidden];
    }

    public LstmShape shape() {
        return shape;
    }

    /**
     * Steps one key once: updates its h and c in place and writes the head's output.
     *
     * @param x     input, {@code x[xOff .. xOff+D)}; not modified
     * @param state the key's state, {@code state[sOff .. sOff + 2*layers*H)}; updated in place
     * @param out   receives the head's outputs at {@code out[oOff .. oOff+O)}
     */
    public void step(double[] x, int xOff, double[] state, int sOff, double[] out, int oOff) {
        int h = hidden;
        int gh = LstmModel.GATES * h;
        int cBase = sOff + shape.layers() * h;
        double[] g = gates;
        for (int l = 0; l < shape.layers(); l++) {
            int din = shape.layerInput(l);
            int hOff = sOff + l * h;
            int cOff = cBase + l * h;
            // input: layer 0 reads x, layer l > 0 reads the new h of layer l-1 (already in state)
            double[] in = l == 0 ? x : state;
            int inOff = l == 0 ? xOff : sOff + (l - 1) * h;
            System.arraycopy(in, inOff, xh, 0, din);
            System.arraycopy(state, hOff, xh, din, h);
            System.arraycopy(bias[l], 0, g, 0, gh);
            Kernels.axpyRows(g, wT[l], xh, din + h, gh);
            Kernels.activateGates(g, h);
            double[] t = tanhC;
            for (int j = 0; j < h; j++) {
                double c = g[h + j] * state[cOff + j] + g[j] * g[2 * h + j];
                state[cOff + j] = c;
                t[j] = c;
            }
            Kernels.tanh(t, h);
            for (int j = 0; j < h; j++) {
                state[hOff + j] = g[3 * h + j] * t[j];
            }
        }
        int top = sOff + (shape.layers() - 1) * h;
        for (int o = 0; o < shape.outputSize(); o++) {
            double s = headB[o];
            int w = o * h;
            for (int j = 0; j < h; j++) {
                s += headW[w + j] * state[top + j];
            }
            out[oOff + o] = s;
        }
    }
}
