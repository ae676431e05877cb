package io.carousel.lstm;

/** The two squashing functions, written over {@link Math#exp} (a JIT intrinsic; Math.tanh is not). */
final class Activations {

    private Activations() {}

    /** 1 / (1 + e^-x); saturates cleanly to 0 and 1 (e^-x overflowing to infinity gives 0). */
    static double sigmoid(double x) {
        return 1.0 / (1.0 + Math.exp(-x));
    }

    /**
     * tanh(x) = 2 sigmoid(2x) - 1. Absolute error about 1e-16; near zero its relative error is
     * larger than Math.tanh's, which matters nowhere here: every use adds it to or multiplies it
     * with O(1) quantities.
     */
    static double tanh(double x) {
        return 2.0 / (1.0 + Math.exp(-2.0 * x)) - 1.0;
    }
}
