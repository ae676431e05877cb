package io.carousel.lstm;

/**
 * The sizes of a stacked LSTM with a linear head, as PyTorch's {@code nn.LSTM(inputSize, hiddenSize,
 * layers)} followed by {@code nn.Linear(hiddenSize, outputSize)}.
 */
public record LstmShape(int inputSize, int hiddenSize, int layers, int outputSize) {

    /** Upper bound on any one size: keeps every index computation safely inside int range. */
    public static final int MAX_SIZE = 1 << 14;

    public LstmShape {
        check("input size", inputSize);
        check("hidden size", hiddenSize);
        check("layers", layers);
        if (layers > 64) {
            throw new IllegalArgumentException("layers must be at most 64, got " + layers);
        }
        check("output size", outputSize);
    }

    private static void check(String name, int value) {
        if (value < 1 || value > MAX_SIZE) {
            throw new IllegalArgumentException(name + " must be between 1 and " + MAX_SIZE + ", got " + value);
        }
    }

    /** The input width of layer {@code l}: the model's input for layer 0, the hidden size above. */
    public int layerInput(int layer) {
        return layer == 0 ? inputSize : hiddenSize;
    }

    /** Doubles in one key's recurrent state: h and c for every layer. */
    public int stateSize() {
        return 2 * layers * hiddenSize;
    }

    @Override
    public String toString() {
        return "input=" + inputSize + " hidden=" + hiddenSize + " layers=" + layers + " output=" + outputSize;
    }
}
