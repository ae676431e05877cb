package io.carousel.streams;

/**
 * What reaches the forecast step: a usable event, the original bytes of a record bound for the
 * dead-letter topic (its reason travels in the record's headers), or a request from the control
 * topic (feedback, rollback) for the key.
 */
public record Routed(ParsedEvent event, byte[] rejected, Control control) {

    static Routed of(ParsedEvent e) {
        return new Routed(e, null, null);
    }

    static Routed reject(byte[] original) {
        return new Routed(null, original == null ? new byte[0] : original, null);
    }

    static Routed control(Control c) {
        return new Routed(null, null, c);
    }

    boolean isRejected() {
        return event == null && control == null;
    }
}
