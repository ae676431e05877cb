package io.carousel.streams;

import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;

/**
 * The forecast step fed straight from the events and control topics, for events keyed by their
 * record key (no {@code events.key.field}, so nothing to repartition between parsing and the
 * per-key step): parses each record itself ({@link ParseProcessor#route}) and hands it to
 * {@link ForecastProcessor}; a rejected event goes to the dead-letter topic through the same output
 * sink as every other output, a control record is read as {@link Control}. One node where the
 * keyed topology has five (parse, split, its branch, merge, forecast): Kafka Streams' forwarding
 * from node to node costs at every event (about 3% of the stream thread in ThroughputBench's profile).
 */
final class RecordKeyedForecast implements Processor<byte[], byte[], byte[], Emitted> {

    private final ParseProcessor parse;
    private final ForecastProcessor forecast;
    private final String controlTopic;
    private final String deadLetterTopic;
    private ProcessorContext<byte[], Emitted> context;

    RecordKeyedForecast(StreamSettings settings, ForecastProcessor forecast, Telemetry telemetry) {
        if (settings.keyField() != null) {
            throw new IllegalArgumentException("events keyed by a field are repartitioned after parsing: use ParseProcessor");
        }
        this.parse = new ParseProcessor(settings, telemetry);
        this.forecast = forecast;
        this.controlTopic = settings.controlTopic();
        this.deadLetterTopic = settings.deadLetterTopic();
    }

    @Override
    public void init(ProcessorContext<byte[], Emitted> context) {
        this.context = context;
        forecast.init(context);
    }

    @Override
    public void process(Record<byte[], byte[]> record) {
        RecordMetadata from = context.recordMetadata().orElse(null);
        if (from != null && from.topic().equals(controlTopic)) {
            for (Routed c : CarouselTopology.control(record.key(), record.value())) {
                forecast.process(record.withValue(c));
            }
            return;
        }
        Record<byte[], Routed> routed = parse.route(record, from);
        if (routed.value().isRejected()) {
            context.forward(routed.withValue(new Emitted(deadLetterTopic, routed.value().rejected())), CarouselTopology.OUTPUTS);
        } else {
            forecast.process(routed);
        }
    }

    @Override
    public void close() {
        forecast.close();
    }
}
