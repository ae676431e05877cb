package io.carousel.streams;

import io.carousel.lstm.LstmModel;
import io.carousel.lstm.LstmStepper;

/**
 * A model ready to serve: its weights, a stepper over them (built once: it copies the weights
 * into the fast layout) and its version (0 = untrained, keys forecast by persistence).
 */
public record Served(LstmModel model, LstmStepper stepper, long version) {

    static Served of(LstmModel model, long version, StreamSettings s) {
        if (model.shape().inputSize() != s.modelInputs() || model.shape().outputSize() != s.outputs()) {
            throw new IllegalArgumentException("the model takes " + model.shape().inputSize() + " inputs and gives "
                    + model.shape().outputSize() + " outputs; the configuration needs " + s.modelInputs() + " and "
                    + s.outputs());
        }
        return new Served(model, new LstmStepper(model), version);
    }
}
