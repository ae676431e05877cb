package io.carousel.lstm;

/**
 * The training loss over the head's outputs, averaged over batch, steps and outputs (PyTorch's
 * reduction "mean"): {@link #MSE}, PyTorch's {@code MSELoss}, or {@link #HUBER}, PyTorch's
 * {@code HuberLoss} with {@code delta = 1}: half the squared error up to {@code |error| = 1}, then
 * linear ({@code |error| - 0.5}). Targets are standardised per key, so the bend sits at one
 * standard deviation: ordinary errors are fitted as by least squares, while the rare large ones
 * (spikes) pull on the fit with a bounded force instead of one that grows with their size, so the
 * forecast tracks the typical next value rather than being dragged towards the spikes' mean.
 */
public enum Loss {
    MSE,
    HUBER;

    /** Where the Huber loss turns from quadratic to linear, in the targets' units. */
    public static final double HUBER_DELTA = 1.0;

    /** The loss of one error {@code d} (prediction minus target), before averaging. */
    double value(double d) {
        if (this == MSE) {
            return d * d;
        }
        double a = Math.abs(d);
        return a <= HUBER_DELTA ? 0.5 * d * d : HUBER_DELTA * (a - 0.5 * HUBER_DELTA);
    }

    /** Its derivative with respect to the prediction. */
    double derivative(double d) {
        if (this == MSE) {
            return 2.0 * d;
        }
        return Math.abs(d) <= HUBER_DELTA ? d : HUBER_DELTA * Math.signum(d);
    }
}
