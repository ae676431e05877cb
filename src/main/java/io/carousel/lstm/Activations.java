package io.carousel.lstm;

/**
 * A scalar tanh over {@link Math#exp} (a JIT intrinsic; Math.tanh is not), for the plain RNN. The
 * LSTM squashes whole vectors at once, with {@link Kernels#activateGates} and {@link Kernels#tanh}.
 */
final class Activations {

    private Activations() {}

    /**
     * tanh(x) = 2 sigmoid(2x) - 1. Absolute error about 1e-16; near zero its relative error is
     * larger than Math.tanh's, which matters nowhere here: every use adds it to or multiplies it
     * with O(1) quantities.
     */
    static double tanh(double x) {
        return 2.0 / (1.0 + Math.exp(-2.0 * x)) - 1.0;
    }
}
