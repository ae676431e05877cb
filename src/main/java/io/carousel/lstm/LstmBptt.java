package io.carousel.lstm;

import java.util.Arrays;

/**
 * Forward over mini-batches of sequences and backpropagation through time, for one model.
 *
 * <p>Shapes (all flat, row-major): inputs {@code x} [B][T][D], targets {@code y} [B][T][O], head
 * outputs [B][T][O], initial and final states [L][B][H] (PyTorch's batch-first input and (h, c)
 * layout). The loss is the mean squared error over batch, steps and outputs (PyTorch's MSELoss), or
 * the mean Huber loss ({@link Loss#HUBER}, PyTorch's HuberLoss), or, with {@code lastStepOnly},
 * the same over the batch and outputs of the final step only.
 *
 * <p>Internally everything is time-major ([T][B][...]) so that one step of the whole batch is
 * contiguous. The instance owns its caches, sized for the largest batch and length seen so far;
 * repeated calls of the same size allocate nothing. Not thread-safe. The model's weights are read
 * at each call (copies laid out for the kernels are refreshed then), so training the model between
 * calls is fine.
 *
 * <p>The products run through {@link Kernels} over row arrays, which the JIT vectorises: forward,
 * {@code [W_ih | W_hh]^T} as D_in + H rows of 4H; backward, {@code W_hh} and {@code W_ih} as 4H rows,
 * and the weight gradients accumulated transposed, as D_in + H rows of 4H, then written into the
 * caller's buffer in its layout. Every sum keeps the order of the plain loops (per element: bias,
 * then inputs, then h for the gates; batch rows in order, steps from the last, for the gradients).
 */
public final class LstmBptt {

    private final LstmModel model;
    private final Loss loss;
    private final LstmShape shape;
    private final int hidden;
    private final int gh;

    private int capB;
    private int capT;
    private double[] xin;        // [T][B][D]
    private double[][] hs;       // per layer [T+1][B][H]; slot 0 is the initial state
    private double[][] cs;       // per layer [T+1][B][H]
    private double[][] acts;     // per layer [T][B][4H]: activated gates i, f, g, o
    private double[][] tcs;      // per layer [T][B][H]: tanh(c_t)
    private double[] yhat;       // [T][B][O]
    private double[] dy;         // [T][B][O]
    private double[] dhAbove;    // [T][B][H]: gradient reaching a layer's h from above
    private double[] dxBelow;    // [T][B][H]: gradient a layer sends to the layer below
    private final double[] dpre; // [4H] scratch
    private double[] dhNext;     // [B][H]
    private double[] dcNext;     // [B][H]
    private final double[][][] wT;    // per layer [D_in + H][4H]: rows of W_ih^T, then of W_hh^T
    private final double[][] biasSum; // per layer [4H]: bias_ih + bias_hh
    private final double[][][] wIh;   // per layer [4H][D_in]: rows of W_ih (used for l > 0)
    private final double[][][] wHh;   // per layer [4H][H]: rows of W_hh
    private final double[][] gradT;   // [max D_in + H][4H]: one layer's dW_ih^T, then dW_hh^T
    private final double[] gradB;     // [4H]: one layer's bias gradient
    private final double[] gates;     // [4H] scratch
    private final double[] tch;       // [H] scratch: one step's new c, then tanh(c)
    private final double[] xh;        // [max D_in + H] scratch: a step's input, then h_{t-1}
    private final double[] dv;        // [max D_in, H] scratch: dL/dh_{t-1} or dL/dinput of one step

    public LstmBptt(LstmModel model) {
        this(model, Loss.MSE);
    }

    public LstmBptt(LstmModel model, Loss loss) {
        this.model = model;
        this.loss = loss;
        this.shape = model.shape();
        this.hidden = shape.hiddenSize();
        this.gh = LstmModel.GATES * hidden;
        int layers = shape.layers();
        hs = new double[layers][];
        cs = new double[layers][];
        acts = new double[layers][];
        tcs = new double[layers][];
        wT = new double[layers][][];
        biasSum = new double[layers][gh];
        wIh = new double[layers][][];
        wHh = new double[layers][][];
        int maxIn = 0;
        for (int l = 0; l < layers; l++) {
            int din = shape.layerInput(l);
            maxIn = Math.max(maxIn, din);
            wT[l] = Kernels.rows(din + hidden, gh);
            wIh[l] = l > 0 ? Kernels.rows(gh, din) : null;
            wHh[l] = Kernels.rows(gh, hidden);
        }
        dpre = new double[gh];
        gradT = Kernels.rows(maxIn + hidden, gh);
        gradB = new double[gh];
        gates = new double[gh];
        tch = new double[hidden];
        xh = new double[maxIn + hidden];
        dv = new double[Math.max(maxIn, hidden)];
    }

    public LstmModel model() {
        return model;
    }

    private void ensure(int batch, int steps) {
        if (batch < 1 || steps < 1) {
            throw new IllegalArgumentException("batch and steps must be positive, got " + batch + " and " + steps);
        }
        if (batch <= capB && steps <= capT) {
            return;
        }
        capB = Math.max(batch, capB);
        capT = Math.max(steps, capT);
        int h = hidden;
        xin = new double[capT * capB * shape.inputSize()];
        for (int l = 0; l < shape.layers(); l++) {
            hs[l] = new double[(capT + 1) * capB * h];
            cs[l] = new double[(capT + 1) * capB * h];
            acts[l] = new double[capT * capB * gh];
            tcs[l] = new double[capT * capB * h];
        }
        yhat = new double[capT * capB * shape.outputSize()];
        dy = new double[capT * capB * shape.outputSize()];
        dhAbove = new double[capT * capB * h];
        dxBelow = new double[capT * capB * h];
        dhNext = new double[capB * h];
        dcNext = new double[capB * h];
    }

    /**
     * Runs the batch forward.
     *
     * @param x   inputs [B][T][D]
     * @param h0  initial h [L][B][H], or null for zeros
     * @param c0  initial c [L][B][H], or null for zeros
     * @param out receives head outputs [B][T][O], or null
     * @param hn  receives final h [L][B][H], or null
     * @param cn  receives final c [L][B][H], or null
     */
    public void forward(double[] x, int batch, int steps, double[] h0, double[] c0,
                        double[] out, double[] hn, double[] cn) {
        ensure(batch, steps);
        refreshForward();
        int d = shape.inputSize();
        int h = hidden;
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < steps; t++) {
                System.arraycopy(x, (b * steps + t) * d, xin, (t * batch + b) * d, d);
            }
        }
        double[] g = gates;
        for (int l = 0; l < shape.layers(); l++) {
            int layerBh = batch * h;
            if (h0 == null) {
                Arrays.fill(hs[l], 0, layerBh, 0.0);
            } else {
                System.arraycopy(h0, l * layerBh, hs[l], 0, layerBh);
            }
            if (c0 == null) {
                Arrays.fill(cs[l], 0, layerBh, 0.0);
            } else {
                System.arraycopy(c0, l * layerBh, cs[l], 0, layerBh);
            }
            double[] in = l == 0 ? xin : hs[l - 1];
            int inWidth = shape.layerInput(l);
            int inShift = l == 0 ? 0 : layerBh; // hs slot 0 is the initial state, outputs start at slot 1
            double[][] w = wT[l];
            double[] bias = biasSum[l];
            double[] a = acts[l];
            double[] hl = hs[l];
            double[] cl = cs[l];
            double[] tc = tcs[l];
            for (int t = 0; t < steps; t++) {
                for (int b = 0; b < batch; b++) {
                    int gOff = (t * batch + b) * gh;
                    int prev = (t * batch + b) * h; // slot t holds h_{t-1}
                    System.arraycopy(in, inShift + (t * batch + b) * inWidth, xh, 0, inWidth);
                    System.arraycopy(hl, prev, xh, inWidth, h);
                    System.arraycopy(bias, 0, g, 0, gh);
                    Kernels.axpyRows(g, w, xh, inWidth + h, gh);
                    Kernels.activateGates(g, h);
                    System.arraycopy(g, 0, a, gOff, gh);
                    int next = ((t + 1) * batch + b) * h;
                    int tcOff = (t * batch + b) * h;
                    for (int j = 0; j < h; j++) {
                        double c = g[h + j] * cl[prev + j] + g[j] * g[2 * h + j];
                        cl[next + j] = c;
                        tch[j] = c;
                    }
                    Kernels.tanh(tch, h);
                    for (int j = 0; j < h; j++) {
                        tc[tcOff + j] = tch[j];
                        hl[next + j] = g[3 * h + j] * tch[j];
                    }
                }
            }
            if (hn != null) {
                System.arraycopy(hl, steps * layerBh, hn, l * layerBh, layerBh);
            }
            if (cn != null) {
                System.arraycopy(cl, steps * layerBh, cn, l * layerBh, layerBh);
            }
        }
        head(batch, steps, out);
    }

    private void head(int batch, int steps, double[] out) {
        double[] p = model.params();
        int hw = model.layout().headWeight();
        int hb = model.layout().headBias();
        int o = shape.outputSize();
        int h = hidden;
        double[] top = hs[shape.layers() - 1];
        for (int t = 0; t < steps; t++) {
            for (int b = 0; b < batch; b++) {
                int hOff = ((t + 1) * batch + b) * h;
                for (int k = 0; k < o; k++) {
                    double s = p[hb + k];
                    int w = hw + k * h;
                    for (int j = 0; j < h; j++) {
                        s += p[w + j] * top[hOff + j];
                    }
                    yhat[(t * batch + b) * o + k] = s;
                    if (out != null) {
                        out[(b * steps + t) * o + k] = s;
                    }
                }
            }
        }
    }

    /**
     * Forward, loss and backward. Overwrites {@code grad} (the model's layout) with the gradient of
     * the loss; writes the gradients of the initial states when asked.
     *
     * @param y            targets [B][T][O]
     * @param lastStepOnly the loss counts only the final step (as in the adding problem)
     * @param gradH0       receives dLoss/dh0 [L][B][H], or null
     * @param gradC0       receives dLoss/dc0 [L][B][H], or null
     * @return the loss
     */
    public double forwardBackward(double[] x, double[] y, int batch, int steps, boolean lastStepOnly,
                                  double[] h0, double[] c0, double[] grad, double[] gradH0, double[] gradC0) {
        forward(x, batch, steps, h0, c0, null, null, null);
        double loss = lossAndDy(y, batch, steps, lastStepOnly);
        backward(batch, steps, grad, gradH0, gradC0);
        return loss;
    }

    /** The loss of the last forward against {@code y}; fills dy with dLoss/dyhat (time-major). */
    private double lossAndDy(double[] y, int batch, int steps, boolean lastStepOnly) {
        int o = shape.outputSize();
        int firstT = lastStepOnly ? steps - 1 : 0;
        double n = (double) (steps - firstT) * batch * o;
        Arrays.fill(dy, 0, steps * batch * o, 0.0);
        double sum = 0;
        for (int t = firstT; t < steps; t++) {
            for (int b = 0; b < batch; b++) {
                for (int k = 0; k < o; k++) {
                    double diff = yhat[(t * batch + b) * o + k] - y[(b * steps + t) * o + k];
                    sum += loss.value(diff);
                    dy[(t * batch + b) * o + k] = loss.derivative(diff) / n;
                }
            }
        }
        return sum / n;
    }

    private void backward(int batch, int steps, double[] grad, double[] gradH0, double[] gradC0) {
        Arrays.fill(grad, 0.0);
        refreshBackward();
        double[] p = model.params();
        ParamLayout lay = model.layout();
        int h = hidden;
        int o = shape.outputSize();
        int layers = shape.layers();
        int hw = lay.headWeight();
        int hb = lay.headBias();
        // head: dhAbove = dy W_head, dW_head += dy^T h, db_head += dy
        double[] top = hs[layers - 1];
        Arrays.fill(dhAbove, 0, steps * batch * h, 0.0);
        for (int t = 0; t < steps; t++) {
            for (int b = 0; b < batch; b++) {
                int hOff = ((t + 1) * batch + b) * h;
                int dOff = (t * batch + b) * h;
                for (int k = 0; k < o; k++) {
                    double g = dy[(t * batch + b) * o + k];
                    if (g == 0.0) {
                        continue;
                    }
                    grad[hb + k] += g;
                    int w = hw + k * h;
                    for (int j = 0; j < h; j++) {
                        dhAbove[dOff + j] += g * p[w + j];
                        grad[w + j] += g * top[hOff + j];
                    }
                }
            }
        }
        for (int l = layers - 1; l >= 0; l--) {
            layerBackward(l, batch, steps, grad, gradH0, gradC0);
            if (l > 0) {
                double[] swap = dhAbove;
                dhAbove = dxBelow;
                dxBelow = swap;
            }
        }
    }

    private void layerBackward(int l, int batch, int steps, double[] grad, double[] gradH0, double[] gradC0) {
        ParamLayout lay = model.layout();
        int h = hidden;
        int inWidth = shape.layerInput(l);
        double[] in = l == 0 ? xin : hs[l - 1];
        int inShift = l == 0 ? 0 : batch * h;
        double[] a = acts[l];
        double[][] wi = wIh[l];
        double[][] wh = wHh[l];
        double[][] gT = gradT;
        double[] gB = gradB;
        int rowsT = inWidth + h;
        for (int c = 0; c < rowsT; c++) {
            Arrays.fill(gT[c], 0.0);
        }
        Arrays.fill(gB, 0.0);
        double[] hl = hs[l];
        double[] cl = cs[l];
        double[] tc = tcs[l];
        boolean below = l > 0;
        if (below) {
            Arrays.fill(dxBelow, 0, steps * batch * h, 0.0);
        }
        Arrays.fill(dhNext, 0, batch * h, 0.0);
        Arrays.fill(dcNext, 0, batch * h, 0.0);
        double[] dp = dpre;
        for (int t = steps - 1; t >= 0; t--) {
            for (int b = 0; b < batch; b++) {
                int gOff = (t * batch + b) * gh;
                int sOff = (t * batch + b) * h;       // tanh(c_t), dhAbove at t
                int prev = (t * batch + b) * h;       // h_{t-1}, c_{t-1} in the [T+1] buffers
                int bh = b * h;
                for (int j = 0; j < h; j++) {
                    double ig = a[gOff + j];
                    double fg = a[gOff + h + j];
                    double gg = a[gOff + 2 * h + j];
                    double og = a[gOff + 3 * h + j];
                    double tch = tc[sOff + j];
                    double dh = dhAbove[sOff + j] + dhNext[bh + j];
                    double dc = dcNext[bh + j] + dh * og * (1.0 - tch * tch);
                    dp[j] = dc * gg * ig * (1.0 - ig);
                    dp[h + j] = dc * cl[prev + j] * fg * (1.0 - fg);
                    dp[2 * h + j] = dc * ig * (1.0 - gg * gg);
                    dp[3 * h + j] = dh * tch * og * (1.0 - og);
                    dcNext[bh + j] = dc * fg;
                }
                // db += dp; dW_ih^T[k] += input[k] * dp; dW_hh^T[k] += h_{t-1}[k] * dp
                Kernels.addTo(gB, dp, gh);
                System.arraycopy(in, inShift + (t * batch + b) * inWidth, xh, 0, inWidth);
                System.arraycopy(hl, prev, xh, inWidth, h);
                Kernels.addOuter(gT, xh, dp, rowsT, gh);
                // dL/dh_{t-1} = sum_r dp[r] W_hh[r]; dL/dinput = sum_r dp[r] W_ih[r]
                Arrays.fill(dv, 0, h, 0.0);
                Kernels.axpyRows(dv, wh, dp, gh, h);
                System.arraycopy(dv, 0, dhNext, bh, h);
                if (below) {
                    Arrays.fill(dv, 0, inWidth, 0.0);
                    Kernels.axpyRows(dv, wi, dp, gh, inWidth);
                    System.arraycopy(dv, 0, dxBelow, (t * batch + b) * h, inWidth);
                }
            }
        }
        // grad was zeroed and this layer's slices are written only here: the sums are the same
        Kernels.untransposeRows(gT, 0, gh, inWidth, grad, lay.weightIh(l));
        Kernels.untransposeRows(gT, inWidth, gh, h, grad, lay.weightHh(l));
        System.arraycopy(gB, 0, grad, lay.biasIh(l), gh);
        System.arraycopy(gB, 0, grad, lay.biasHh(l), gh);
        int layerBh = batch * h;
        if (gradH0 != null) {
            System.arraycopy(dhNext, 0, gradH0, l * layerBh, layerBh);
        }
        if (gradC0 != null) {
            System.arraycopy(dcNext, 0, gradC0, l * layerBh, layerBh);
        }
    }

    /** Copies the weights the forward pass reads: W^T rows and the summed biases. */
    private void refreshForward() {
        double[] p = model.params();
        ParamLayout lay = model.layout();
        for (int l = 0; l < shape.layers(); l++) {
            int din = shape.layerInput(l);
            Kernels.transposeRows(p, lay.weightIh(l), gh, din, wT[l], 0);
            Kernels.transposeRows(p, lay.weightHh(l), gh, hidden, wT[l], din);
            int bIh = lay.biasIh(l);
            int bHh = lay.biasHh(l);
            for (int r = 0; r < gh; r++) {
                biasSum[l][r] = p[bIh + r] + p[bHh + r];
            }
        }
    }

    /** Copies the weights the backward pass reads: W_hh and W_ih as rows (the forward's weights). */
    private void refreshBackward() {
        double[] p = model.params();
        ParamLayout lay = model.layout();
        for (int l = 0; l < shape.layers(); l++) {
            if (wIh[l] != null) {
                Kernels.copyRows(p, lay.weightIh(l), gh, shape.layerInput(l), wIh[l], 0);
            }
            Kernels.copyRows(p, lay.weightHh(l), gh, hidden, wHh[l], 0);
        }
    }
}
