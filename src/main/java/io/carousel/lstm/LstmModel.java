package io.carousel.lstm;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A stacked LSTM with a linear head: its shape and all its parameters in one flat buffer whose
 * named views are given by {@link #layout()} (PyTorch's names and order). The buffer is owned by
 * the model and changed in place by training; a model that is being served is not trained (copy it).
 */
public final class LstmModel {

    /** Gates per hidden unit of an LSTM: input, forget, cell candidate, output (PyTorch's order). */
    public static final int GATES = 4;

    private final ParamLayout layout;
    private final double[] params;
    private final Map<String, String> metadata;

    /** A model over {@code params}, which it takes ownership of; its length must match the shape. */
    public LstmModel(LstmShape shape, double[] params, Map<String, String> metadata) {
        this.layout = new ParamLayout(shape, GATES);
        if (params.length != layout.size()) {
            throw new IllegalArgumentException(
                    "a model of shape " + shape + " has " + layout.size() + " parameters, got " + params.length);
        }
        this.params = params;
        this.metadata = new LinkedHashMap<>(metadata);
    }

    /**
     * PyTorch's default initialisation, from a seed: every LSTM parameter and both head tensors
     * uniform in ±1/sqrt(H) (for the head, that is nn.Linear's kaiming_uniform(a=sqrt(5)) bound
     * 1/sqrt(fan_in) with fan_in = H). The same seed gives the same weights, bit for bit.
     */
    public static LstmModel init(LstmShape shape, long seed) {
        double[] p = new double[new ParamLayout(shape, GATES).size()];
        uniform(p, 1.0 / Math.sqrt(shape.hiddenSize()), seed);
        return new LstmModel(shape, p, Map.of());
    }

    /** Fills {@code p} uniformly in [-bound, bound) from a seeded generator: deterministic across JVMs. */
    static void uniform(double[] p, double bound, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = 0; i < p.length; i++) {
            p[i] = (random.nextDouble() * 2 - 1) * bound;
        }
    }

    public LstmShape shape() {
        return layout.shape();
    }

    public ParamLayout layout() {
        return layout;
    }

    /** The live parameter buffer (not a copy). */
    public double[] params() {
        return params;
    }

    /** Free-form string metadata carried with the weights (version, training losses, ...). */
    public Map<String, String> metadata() {
        return Collections.unmodifiableMap(metadata);
    }

    public void putMetadata(String key, String value) {
        metadata.put(key, value);
    }

    public int parameterCount() {
        return params.length;
    }

    /** A deep copy: the copy can be trained while this one keeps serving. */
    public LstmModel copy() {
        return new LstmModel(shape(), params.clone(), metadata);
    }

    /** True when every parameter is finite: a model with a NaN or infinity must never be served. */
    public boolean isFinite() {
        for (double v : params) {
            if (!Double.isFinite(v)) {
                return false;
            }
        }
        return true;
    }

    /** Rounds every parameter to float precision, as writing F32 weights and reading them back does. */
    public void roundToFloat() {
        for (int i = 0; i < params.length; i++) {
            params[i] = (float) params[i];
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LstmModel m && m.shape().equals(shape()) && Arrays.equals(m.params, params);
    }

    @Override
    public int hashCode() {
        return shape().hashCode() * 31 + Arrays.hashCode(params);
    }
}
