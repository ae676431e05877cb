package io.carousel.streams;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;

/**
 * Parses every raw event; usable ones go on keyed by their series key (UTF-8), the rest go on as
 * rejections carrying their original key, bytes and the reason in headers. Never throws on input.
 */
final class ParseProcessor implements Processor<byte[], byte[], byte[], Routed> {

    private final EventParser parser;
    /** The series key is the record key (no events.key-field): its bytes go on as they came. */
    private final boolean recordKeyed;
    private final Telemetry telemetry;
    private ProcessorContext<byte[], Routed> context;

    ParseProcessor(StreamSettings settings) {
        this(settings, Telemetry.NONE);
    }

    ParseProcessor(StreamSettings settings, Telemetry telemetry) {
        this.parser = new EventParser(settings);
        this.recordKeyed = settings.keyField() == null;
        this.telemetry = telemetry;
    }

    @Override
    public void init(ProcessorContext<byte[], Routed> context) {
        this.context = context;
    }

    @Override
    public void process(Record<byte[], byte[]> record) {
        context.forward(route(record, context.recordMetadata().orElse(null)));
    }

    /**
     * A raw record as the forecast step takes it: the parsed event keyed by its series key, or the
     * original bytes as a rejection, with the reason and where the record came from ({@code from},
     * if known) in its headers. Needs no context: {@link RecordKeyedForecast} routes with it too.
     */
    Record<byte[], Routed> route(Record<byte[], byte[]> record, RecordMetadata from) {
        try {
            ParsedEvent e = parser.parse(record.key(), record.value(), record.timestamp());
            // a record key is only accepted as valid UTF-8, so its bytes are the series key's encoding
            // already: the record keeps it (withKey would copy the record for nothing)
            Record<byte[], byte[]> keyed = recordKeyed ? record : record.withKey(e.key().getBytes(StandardCharsets.UTF_8));
            return keyed.withValue(Routed.of(e));
        } catch (Rejection r) {
            Record<byte[], Routed> out = record.withValue(Routed.reject(record.value()));
            DeadLetters.annotate(out.headers(), r, from);
            telemetry.deadLettered(r.reason().name());
            return out;
        }
    }
}
