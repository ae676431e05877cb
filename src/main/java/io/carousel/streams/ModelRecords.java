package io.carousel.streams;

import io.carousel.lstm.LstmModel;
import io.carousel.lstm.Safetensors;
import java.util.Map;

/**
 * A model version as it is stored: safetensors bytes (F64, so what is restored is exactly what
 * served) whose metadata carries the version and its training facts. The same bytes, written to a
 * file, load in PyTorch or in {@code model inspect}.
 */
final class ModelRecords {

    static final String VERSION = ModelSource.VERSION_KEY;
    static final String TRAINED_AT = "model.trained-at";
    static final String SPAN_START = "model.span-start";
    static final String SPAN_END = "model.span-end";
    static final String EVENTS = "model.events";
    static final String TRAIN_LOSS = "model.train-loss";
    static final String VAL_LOSS = "model.val-loss";
    static final String SERVING_VAL_LOSS = "model.previous-val-loss";
    static final String PREVIOUS = "model.previous-version";

    private ModelRecords() {}

    static byte[] encode(Retrainer.Result r, long version) {
        LstmModel m = r.model();
        Retrainer.Job j = r.job();
        m.putMetadata(VERSION, Long.toString(version));
        m.putMetadata(TRAINED_AT, Long.toString(j.now()));
        m.putMetadata(SPAN_START, Long.toString(j.spanStart()));
        m.putMetadata(SPAN_END, Long.toString(j.spanEnd()));
        m.putMetadata(EVENTS, Integer.toString(j.rows()));
        m.putMetadata(TRAIN_LOSS, Double.toString(r.trainLoss()));
        m.putMetadata(VAL_LOSS, Double.toString(r.valLoss()));
        m.putMetadata(SERVING_VAL_LOSS, Double.toString(r.servingValLoss()));
        m.putMetadata(PREVIOUS, Long.toString(j.servingVersion()));
        return Safetensors.toBytes(m, true);
    }

    static LstmModel decode(String modelId, byte[] bytes) {
        return Safetensors.fromBytes("model " + modelId, bytes);
    }

    static long version(LstmModel m) {
        return Long.parseLong(m.metadata().getOrDefault(VERSION, "0"));
    }

    static double valLoss(LstmModel m) {
        return Double.parseDouble(m.metadata().getOrDefault(VAL_LOSS, "NaN"));
    }

    static Map<String, String> facts(LstmModel m) {
        return m.metadata();
    }
}
