package io.carousel.streams;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Group models as every instance sees them: the compacted models topic, read into a global store
 * on each instance, so every instance serves the same version of every group model. The newest
 * version per group is also kept in a map the stream threads check at each event (a map lookup,
 * not a store read); each stream thread keeps its own stepper per group and reloads it from the
 * global store when the version moves.
 */
public final class GroupModels {

    private final Map<String, Long> versions = new ConcurrentHashMap<>();
    private final Telemetry telemetry;

    public GroupModels() {
        this(Telemetry.NONE);
    }

    /** Group models that report each new version they serve (training or rollback) to {@code telemetry}. */
    public GroupModels(Telemetry telemetry) {
        this.telemetry = telemetry;
    }

    /** The newest version seen for the group, or -1 (then the global store is the authority). */
    long version(String group) {
        return versions.getOrDefault(group, -1L);
    }

    /** The global store's processor: keeps the newest version of each group. */
    Processor<String, byte[], Void, Void> updater() {
        return new Processor<>() {
            private KeyValueStore<String, byte[]> store;

            @Override
            public void init(ProcessorContext<Void, Void> context) {
                store = context.getStateStore(CarouselTopology.GROUP_MODEL_STORE);
            }

            @Override
            public void process(Record<String, byte[]> record) {
                if (record.key() == null || record.value() == null) {
                    return;
                }
                long incoming = ModelRecords.version(ModelRecords.decode(record.key(), record.value()));
                byte[] current = store.get(record.key());
                if (current == null || ModelRecords.version(ModelRecords.decode(record.key(), current)) < incoming) {
                    store.put(record.key(), record.value());
                    versions.merge(record.key(), incoming, Math::max);
                    // every instance serves it from now on, whether or not an event of the group comes
                    telemetry.serving(record.key(), incoming);
                }
            }
        };
    }
}
