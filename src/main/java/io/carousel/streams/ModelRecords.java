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
    /** On a group model published by a rollback: the version whose weights it serves again (0: the initial model). */
    static final String RESTORED_FROM = "model.restored-from";
    /** "true" on a group model published by a rollback to the untrained initial model: its keys forecast by persistence. */
    static final String UNTRAINED = "model.untrained";
    /** On a group model: the earlier versions whose weights its trainer keeps (comma-separated), what a rollback can return to. */
    static final String WEIGHTS_KEPT = "model.weights-kept";

    private ModelRecords() {}

    static byte[] encode(Retrainer.Result r, long version) {
        return Safetensors.toBytes(stamp(r, version), true);
    }

    /** The accepted model of {@code r} with its version facts in its metadata. */
    static LstmModel stamp(Retrainer.Result r, long version) {
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
        return m;
    }

    /**
     * A group rollback's model: the weights and training facts of {@code restored} (a kept version's
     * model, or the initial model) published again as {@code version}, the next number, because every
     * instance serves the newest version of the compacted models topic. Its previous version is the
     * restored one's, so a second rollback goes one step further back.
     */
    static LstmModel restore(LstmModel restored, long restoredVersion, boolean untrained, long version) {
        Map<String, String> facts = new java.util.HashMap<>(restored.metadata());
        facts.remove(ModelVersions.ROLLED_BACK_AT);
        facts.remove(WEIGHTS_KEPT);
        if (untrained) {
            facts.put(UNTRAINED, "true");
            facts.put(PREVIOUS, "0");
        } else {
            facts.putIfAbsent(PREVIOUS, "0");
        }
        facts.put(VERSION, Long.toString(version));
        facts.put(RESTORED_FROM, Long.toString(restoredVersion));
        return new LstmModel(restored.shape(), restored.params().clone(), facts);
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
