package io.carousel.streams;

import io.carousel.lstm.LstmModel;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The per-key step: reads the key's state from the store, runs {@link KeyForecaster}, writes the
 * state back and emits the outputs. One instance per task, on that task's stream thread.
 */
final class ForecastProcessor implements Processor<byte[], Routed, byte[], Emitted> {

    private final StreamSettings settings;
    private final ModelSource models;
    private KeyValueStore<String, byte[]> store;
    private ProcessorContext<byte[], Emitted> context;
    private KeyForecaster forecaster;
    private OutputWriter writer;
    private final Outcome outcome = new Outcome();

    ForecastProcessor(StreamSettings settings, ModelSource models) {
        this.settings = settings;
        this.models = models;
    }

    @Override
    public void init(ProcessorContext<byte[], Emitted> context) {
        this.context = context;
        this.store = context.getStateStore(CarouselTopology.KEY_STATE_STORE);
        LstmModel m = models.model();
        this.forecaster = new KeyForecaster(settings, m, models.version());
        this.writer = new OutputWriter(settings);
    }

    @Override
    public void process(Record<byte[], Routed> record) {
        ParsedEvent e = record.value().event();
        String key = e.key();
        byte[] bytes = store.get(key);
        KeyState k = bytes == null ? forecaster.newState() : KeyState.deserialise(bytes);
        if (k.count > 0 && e.timestamp() < k.lastTimestamp && settings.outOfOrderToDeadLetter()) {
            Record<byte[], Emitted> out = record.withValue(new Emitted(null, null, null, e.original()));
            Rejection r = new Rejection(Rejection.Reason.OUT_OF_ORDER, "event time " + e.timestamp()
                    + " is before the key's last event time " + k.lastTimestamp + " (events.out-of-order=dead-letter)");
            DeadLetters.annotate(out.headers(), r, context.recordMetadata().orElse(null));
            context.forward(out);
            return;
        }
        forecaster.process(k, e.timestamp(), e.features(), outcome);
        store.put(key, k.serialise());
        byte[] anomaly = outcome.anomaly ? writer.anomaly(key, e, outcome) : null;
        context.forward(record.withKey(key.getBytes(StandardCharsets.UTF_8))
                .withValue(new Emitted(writer.enriched(e, outcome), writer.forecast(key, outcome), anomaly, null)));
    }
}
