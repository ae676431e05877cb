package io.carousel.streams;

import io.carousel.lstm.LstmModel;
import io.carousel.lstm.LstmShape;
import io.carousel.lstm.Safetensors;

/**
 * The weights keys start from: {@code model.init} (a trained file: version from its metadata
 * {@code model.version}, else 1) or a fresh model from {@code model.seed} (version 0: untrained,
 * so keys forecast by persistence until a model is trained).
 */
public final class ModelSource {

    public static final String VERSION_KEY = "model.version";

    private final LstmModel model;
    private final long version;

    public ModelSource(LstmModel model, long version) {
        this.model = model;
        this.version = version;
    }

    public static ModelSource from(StreamSettings s) {
        if (s.modelInit() == null) {
            return new ModelSource(LstmModel.init(new LstmShape(s.modelInputs(), s.hidden(), s.layers(), s.outputs()), s.seed()), 0);
        }
        LstmModel m = Safetensors.read(s.modelInit());
        LstmShape want = new LstmShape(s.modelInputs(), m.shape().hiddenSize(), m.shape().layers(), s.outputs());
        if (!m.shape().equals(want)) {
            throw new IllegalArgumentException("config key model.init: " + s.modelInit() + " has " + m.shape()
                    + " but the events give " + s.modelInputs() + " inputs and " + s.outputs() + " outputs");
        }
        String v = m.metadata().get(VERSION_KEY);
        long version;
        try {
            version = v == null ? 1 : Math.max(1, Long.parseLong(v));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("config key model.init: " + s.modelInit() + " metadata model.version is not a number: " + v);
        }
        return new ModelSource(m, version);
    }

    public LstmModel model() {
        return model;
    }

    public long version() {
        return version;
    }
}
