package io.carousel.lstm;

/**
 * A recurrent network trainable by BPTT over batches of sequences: what the long-lag experiment
 * needs to train an LSTM and a plain RNN with one trainer. Shapes as in {@link LstmBptt}.
 */
public interface SequenceNet {

    /** The parameter buffer (changed in place by the optimizer). */
    double[] params();

    /** Forward from zero state, loss, backward: overwrites {@code grad}; returns the loss. */
    double forwardBackward(double[] x, double[] y, int batch, int steps, boolean lastStepOnly, double[] grad);

    /** Forward from zero state; writes head outputs [B][T][O]. */
    void forward(double[] x, int batch, int steps, double[] out);

    /** An LSTM model as a SequenceNet. */
    static SequenceNet of(LstmBptt bptt) {
        return new SequenceNet() {
            @Override
            public double[] params() {
                return bptt.model().params();
            }

            @Override
            public double forwardBackward(double[] x, double[] y, int batch, int steps, boolean lastStepOnly, double[] grad) {
                return bptt.forwardBackward(x, y, batch, steps, lastStepOnly, null, null, grad, null, null);
            }

            @Override
            public void forward(double[] x, int batch, int steps, double[] out) {
                bptt.forward(x, batch, steps, null, null, out, null, null);
            }
        };
    }
}
