package io.carousel.it;

import io.carousel.kafka.EmbeddedKafka;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** Integration tests that share one real broker for the class, in a temporary directory. */
abstract class BrokerIT {

    @TempDir
    static Path tmp;
    static EmbeddedKafka broker;

    @BeforeAll
    static void startBroker() {
        broker = ItSetup.startBroker(tmp.resolve("kafka"));
    }

    @AfterAll
    static void stopBroker() {
        if (broker != null) {
            broker.close();
        }
    }
}
