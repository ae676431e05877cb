package io.carousel.kafka;

/**
 * The embedded broker could not start or stop. The message is one line meant for the user
 * (the CLI prints it as is); the cause, if any, keeps the detail for the log.
 */
public class EmbeddedKafkaException extends RuntimeException {
    public EmbeddedKafkaException(String message) {
        super(message);
    }

    public EmbeddedKafkaException(String message, Throwable cause) {
        super(message, cause);
    }
}
