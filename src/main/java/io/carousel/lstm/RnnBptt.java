package io.carousel.lstm;

import java.util.Arrays;

/**
 * A one-layer Elman RNN, {@code h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)}, with the same
 * linear head, parameter layout (one gate) and initialisation as the LSTM (PyTorch's nn.RNN). It
 * exists as the control in the long-lag experiment: without the cell's additive self-connection the
 * gradient through W_hh vanishes over long lags.
 */
public final class RnnBptt implements SequenceNet {

    private final LstmShape shape;
    private final ParamLayout lay;
    private final double[] p;
    private double[] hs = new double[0];   // [T+1][B][H]
    private double[] yhat = new double[0]; // [T][B][O]
    private double[] dhT = new double[0];  // [T][B][H] gradient from the head
    private double[] dhNext = new double[0];
    private final double[] da;

    public RnnBptt(LstmShape shape, long seed) {
        if (shape.layers() != 1) {
            throw new IllegalArgumentException("the control RNN has one layer, got " + shape.layers());
        }
        this.shape = shape;
        this.lay = new ParamLayout(shape, 1);
        this.p = new double[lay.size()];
        LstmModel.uniform(p, 1.0 / Math.sqrt(shape.hiddenSize()), seed);
        this.da = new double[shape.hiddenSize()];
    }

    @Override
    public double[] params() {
        return p;
    }

    @Override
    public void forward(double[] x, int batch, int steps, double[] out) {
        int h = shape.hiddenSize();
        int d = shape.inputSize();
        int o = shape.outputSize();
        if (hs.length < (steps + 1) * batch * h) {
            hs = new double[(steps + 1) * batch * h];
            yhat = new double[steps * batch * o];
        }
        Arrays.fill(hs, 0, batch * h, 0.0);
        for (int t = 0; t < steps; t++) {
            for (int b = 0; b < batch; b++) {
                int prev = (t * batch + b) * h;
                int next = ((t + 1) * batch + b) * h;
                int xOff = (b * steps + t) * d;
                for (int j = 0; j < h; j++) {
                    double a = p[lay.biasIh(0) + j] + p[lay.biasHh(0) + j];
                    int wi = lay.weightIh(0) + j * d;
                    for (int k = 0; k < d; k++) {
                        a += p[wi + k] * x[xOff + k];
                    }
                    int wh = lay.weightHh(0) + j * h;
                    for (int k = 0; k < h; k++) {
                        a += p[wh + k] * hs[prev + k];
                    }
                    hs[next + j] = Activations.tanh(a);
                }
                for (int k = 0; k < o; k++) {
                    double s = p[lay.headBias() + k];
                    int w = lay.headWeight() + k * h;
                    for (int j = 0; j < h; j++) {
                        s += p[w + j] * hs[next + j];
                    }
                    yhat[(t * batch + b) * o + k] = s;
                    if (out != null) {
                        out[(b * steps + t) * o + k] = s;
                    }
                }
            }
        }
    }

    @Override
    public double forwardBackward(double[] x, double[] y, int batch, int steps, boolean lastStepOnly, double[] grad) {
        forward(x, batch, steps, null);
        int h = shape.hiddenSize();
        int d = shape.inputSize();
        int o = shape.outputSize();
        if (dhT.length < steps * batch * h) {
            dhT = new double[steps * batch * h];
        }
        if (dhNext.length < batch * h) {
            dhNext = new double[batch * h];
        }
        Arrays.fill(grad, 0.0);
        Arrays.fill(dhT, 0, steps * batch * h, 0.0);
        int firstT = lastStepOnly ? steps - 1 : 0;
        double n = (double) (steps - firstT) * batch * o;
        double loss = 0;
        for (int t = firstT; t < steps; t++) {
            for (int b = 0; b < batch; b++) {
                int hOff = ((t + 1) * batch + b) * h;
                for (int k = 0; k < o; k++) {
                    double diff = yhat[(t * batch + b) * o + k] - y[(b * steps + t) * o + k];
                    loss += diff * diff;
                    double g = 2 * diff / n;
                    grad[lay.headBias() + k] += g;
                    int w = lay.headWeight() + k * h;
                    for (int j = 0; j < h; j++) {
                        grad[w + j] += g * hs[hOff + j];
                        dhT[(t * batch + b) * h + j] += g * p[w + j];
                    }
                }
            }
        }
        Arrays.fill(dhNext, 0, batch * h, 0.0);
        for (int t = steps - 1; t >= 0; t--) {
            for (int b = 0; b < batch; b++) {
                int prev = (t * batch + b) * h;
                int next = ((t + 1) * batch + b) * h;
                int xOff = (b * steps + t) * d;
                for (int j = 0; j < h; j++) {
                    double hj = hs[next + j];
                    da[j] = (dhT[(t * batch + b) * h + j] + dhNext[b * h + j]) * (1 - hj * hj);
                }
                Arrays.fill(dhNext, b * h, b * h + h, 0.0);
                for (int j = 0; j < h; j++) {
                    double g = da[j];
                    grad[lay.biasIh(0) + j] += g;
                    grad[lay.biasHh(0) + j] += g;
                    int wi = lay.weightIh(0) + j * d;
                    for (int k = 0; k < d; k++) {
                        grad[wi + k] += g * x[xOff + k];
                    }
                    int wh = lay.weightHh(0) + j * h;
                    for (int k = 0; k < h; k++) {
                        grad[wh + k] += g * hs[prev + k];
                        dhNext[b * h + k] += g * p[wh + k];
                    }
                }
            }
        }
        return loss / n;
    }
}
