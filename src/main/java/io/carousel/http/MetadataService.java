package io.carousel.http;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.apache.kafka.streams.StreamsMetadata;
import org.apache.kafka.streams.state.HostInfo;

/**
 * Which instance holds a key, from Kafka Streams' metadata (each instance's application.server).
 * Only the active task's instance answers for a key: a standby's copy may lag, and an answer
 * must never be wrong. While Kafka Streams is not RUNNING (starting, rebalancing, stopping) the
 * metadata may be stale, so nothing is located and callers answer 503.
 */
public final class MetadataService {

    /** Where a key is: here (in this partition), on another instance, or nowhere right now. */
    public sealed interface Location permits Local, Remote, Unavailable { }

    public record Local(int partition) implements Location { }

    public record Remote(HostInfo host, int partition) implements Location { }

    public record Unavailable(String reason) implements Location { }

    private final KafkaStreams streams;
    private final HostInfo self;
    /** A source topic of the subtopology that holds the key stores: its partitions are the tasks'. */
    private final String sourceTopic;

    public MetadataService(KafkaStreams streams, HostInfo self, String sourceTopic) {
        this.streams = streams;
        this.self = self;
        this.sourceTopic = sourceTopic;
    }

    public HostInfo self() {
        return self;
    }

    /** Null when Kafka Streams can answer queries, else why not. */
    public String unavailable() {
        KafkaStreams.State s = streams.state();
        return s == KafkaStreams.State.RUNNING ? null : "Kafka Streams is " + s;
    }

    public Location locate(String store, String key) {
        String why = unavailable();
        if (why != null) {
            return new Unavailable(why);
        }
        KeyQueryMetadata m = streams.queryMetadataForKey(store, key, Serdes.String().serializer());
        if (m == null || m.equals(KeyQueryMetadata.NOT_AVAILABLE) || m.activeHost() == null
                || m.activeHost().equals(HostInfo.unavailable())) {
            return new Unavailable("the key's partition has no active instance (rebalancing)");
        }
        return m.activeHost().equals(self) ? new Local(m.partition()) : new Remote(m.activeHost(), m.partition());
    }

    /** The other instances that hold the store's tasks. */
    public List<HostInfo> others(String store) {
        return streams.streamsMetadataForStore(store).stream().map(StreamsMetadata::hostInfo)
                .filter(h -> !h.equals(self)).distinct().toList();
    }

    /** Every partition of the store's tasks, over all instances. */
    public Set<Integer> allPartitions(String store) {
        Set<Integer> all = new TreeSet<>();
        for (StreamsMetadata m : streams.streamsMetadataForStore(store)) {
            for (TopicPartition tp : m.topicPartitions()) {
                if (tp.topic().equals(sourceTopic)) {
                    all.add(tp.partition());
                }
            }
        }
        return all;
    }

    /** The partitions whose active task runs here, of the store's subtopology. */
    public Set<Integer> localPartitions() {
        Set<Integer> local = new HashSet<>();
        streams.metadataForLocalThreads().forEach(t -> t.activeTasks().forEach(task -> task.topicPartitions().forEach(tp -> {
            if (tp.topic().equals(sourceTopic)) {
                local.add(tp.partition());
            }
        })));
        return local;
    }
}
