package io.carousel.streams;

import io.carousel.lstm.LstmModel;
import io.carousel.lstm.LstmStepperF32;

/**
 * A model ready to serve: its weights, a stepper over them (built once: it copies the weights
 * into the fast layout) and its version. An untrained model (version 0, or a group model rolled
 * back to the untrained initial one, whose record says {@value ModelRecords#UNTRAINED}) leaves its
 * keys forecast by persistence.
 */
public record Served(LstmModel model, LstmStepperF32 stepper, long version, boolean trained) {

    Served(LstmModel model, LstmStepperF32 stepper, long version) {
        this(model, stepper, version, trained(model, version));
    }

    /** Whether these weights at this version forecast (else their keys forecast by persistence). */
    static boolean trained(LstmModel model, long version) {
        return version > 0 && !"true".equals(model.metadata().get(ModelRecords.UNTRAINED));
    }

    static Served of(LstmModel model, long version, StreamSettings s) {
        if (model.shape().inputSize() != s.modelInputs() || model.shape().outputSize() != s.outputs()) {
            throw new IllegalArgumentException("the model takes " + model.shape().inputSize() + " inputs and gives "
                    + model.shape().outputSize() + " outputs; the configuration needs " + s.modelInputs() + " and "
                    + s.outputs());
        }
        return new Served(model, new LstmStepperF32(model), version);
    }
}
