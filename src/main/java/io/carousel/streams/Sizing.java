package io.carousel.streams;

import io.carousel.lstm.LstmModel;
import io.carousel.lstm.Safetensors;

/**
 * What a configuration costs per key in Carousel's stores, from the records' exact serialised
 * sizes (not measured on disk): the key-state record, the history window at its cap, and a trained
 * model's record when each key has its own model. RocksDB adds its own per-record overhead and
 * compresses; the changelog topics hold about the same bytes again on the brokers (times the
 * replication factor), compacted for key state and models.
 *
 * @param keyState bytes of one key's state record, key included
 * @param historyEvent bytes of one history record (store key and value)
 * @param historyEvents events kept per key (history.max-events)
 * @param model bytes of one trained model's record (safetensors, float64, with its version facts)
 * @param modelsPerKey whether each key has its own model (model.scope=key); otherwise models are per group
 */
public record Sizing(int keyState, int historyEvent, int historyEvents, int model, boolean modelsPerKey) {

    /** Bytes a stored model carries in its version facts beyond the weights' own header (measured: about 300). */
    private static final int VERSION_FACTS = 320;

    public static Sizing of(StreamSettings s, int keyBytes) {
        LstmModel m = ModelSource.from(s).model();
        KeyForecaster f = new KeyForecaster(s, m, 0);
        int state = f.newState().serialisedSize() + keyBytes;
        int event = 4 + keyBytes + 8 + 8 + 1 + 16 + 8 * s.featureCount(); // see History: key, seq; time, flags, forecast and band, features
        int model = Safetensors.toBytes(m.copy(), true).length + VERSION_FACTS;
        return new Sizing(state, event, s.retrain().historyMaxEvents(), model, s.scope() == StreamSettings.Scope.KEY);
    }

    /** Bytes per key once its history is full, with its own trained model when the scope is key. */
    public long perKey() {
        return keyState + (long) historyEvent * historyEvents + (modelsPerKey ? model : 0);
    }

    /** Bytes for {@code keys} keys (group models, a few, not counted). */
    public long total(long keys) {
        return perKey() * keys;
    }
}
