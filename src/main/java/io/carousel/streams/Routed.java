package io.carousel.streams;

/**
 * What the parse step hands on: a usable event, or the original bytes of a record bound for the
 * dead-letter topic (its reason travels in the record's headers).
 */
public record Routed(ParsedEvent event, byte[] rejected) {

    static Routed of(ParsedEvent e) {
        return new Routed(e, null);
    }

    static Routed reject(byte[] original) {
        return new Routed(null, original == null ? new byte[0] : original);
    }

    boolean isRejected() {
        return event == null;
    }
}
