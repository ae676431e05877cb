package io.carousel.lstm;

/**
 * One time step of a model for one key, the stream's hot path: allocates nothing per call.
 *
 * <p>The weights are copied once into a transposed, gate-contiguous layout ({@code W^T}, [D_in][4H])
 * so that the matrix-vector product is a sequence of axpy loops over 4H contiguous doubles, which
 * the JIT vectorises; the two bias vectors are summed once. A stepper is bound to the model's
 * weights at construction: build a new one when the weights change. Not thread-safe (it owns a
 * scratch buffer): one per thread.
 *
 * <p>A key's state is {@code double[2 * layers * H]}: h of every layer, then c of every layer
 * (PyTorch's (h_n, c_n) for a batch of one, flattened).
 */
public final class LstmStepper {

    private final LstmShape shape;
    private final int hidden;
    private final double[][] wIhT; // per layer [D_in][4H]
    private final double[][] wHhT; // per layer [H][4H]
    private final double[][] bias; // per layer [4H] = bias_ih + bias_hh
    private final double[] headW; // [O][H]
    private final double[] headB; // [O]
    private final double[] gates; // scratch [4H]

    public LstmStepper(LstmModel model) {
        this.shape = model.shape();
        this.hidden = shape.hiddenSize();
        ParamLayout lay = model.layout();
        double[] p = model.params();
        int gh = LstmModel.GATES * hidden;
        int layers = shape.layers();
        wIhT = new double[layers][];
        wHhT = new double[layers][];
        bias = new double[layers][gh];
        for (int l = 0; l < layers; l++) {
            wIhT[l] = transpose(p, lay.weightIh(l), gh, shape.layerInput(l));
            wHhT[l] = transpose(p, lay.weightHh(l), gh, hidden);
            for (int r = 0; r < gh; r++) {
                bias[l][r] = p[lay.biasIh(l) + r] + p[lay.biasHh(l) + r];
            }
        }
        headW = java.util.Arrays.copyOfRange(p, lay.headWeight(), lay.headWeight() + shape.outputSize() * hidden);
        headB = java.util.Arrays.copyOfRange(p, lay.headBias(), lay.headBias() + shape.outputSize());
        gates = new double[gh];
    }

    private static double[] transpose(double[] src, int offset, int rows, int cols) {
        double[] t = new double[rows * cols];
        Kernels.transposeInto(src, offset, rows, cols, t);
        return t;
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
            System.arraycopy(bias[l], 0, g, 0, gh);
            // input: layer 0 reads x, layer l > 0 reads the new h of layer l-1 (already in state)
            double[] in = l == 0 ? x : state;
            int inOff = l == 0 ? xOff : sOff + (l - 1) * h;
            Kernels.axpyRows(g, 0, wIhT[l], in, inOff, shape.layerInput(l), gh);
            Kernels.axpyRows(g, 0, wHhT[l], state, sOff + l * h, h, gh);
            int hOff = sOff + l * h;
            int cOff = cBase + l * h;
            for (int j = 0; j < h; j++) {
                double ig = Activations.sigmoid(g[j]);
                double fg = Activations.sigmoid(g[h + j]);
                double gg = Activations.tanh(g[2 * h + j]);
                double og = Activations.sigmoid(g[3 * h + j]);
                double c = fg * state[cOff + j] + ig * gg;
                state[cOff + j] = c;
                state[hOff + j] = og * Activations.tanh(c);
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
