package io.carousel.streams;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

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
        try {
            ParsedEvent e = parser.parse(record.key(), record.value(), record.timestamp());
            // a record key is only accepted as valid UTF-8, so its bytes are the series key's encoding
            byte[] key = recordKeyed ? record.key() : e.key().getBytes(StandardCharsets.UTF_8);
            context.forward(record.withKey(key).withValue(Routed.of(e)));
        } catch (Rejection r) {
            Record<byte[], Routed> out = record.withValue(Routed.reject(record.value()));
            DeadLetters.annotate(out.headers(), r, context.recordMetadata().orElse(null));
            context.forward(out);
            telemetry.deadLettered(r.reason().name());
        }
    }
}
