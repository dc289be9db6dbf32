package kafkamigrate.harness;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.PolicyViolationException;
import org.apache.kafka.server.policy.AlterConfigPolicy;
import org.apache.kafka.server.policy.CreateTopicPolicy;

/**
 * A broker-side create-topic and alter-config policy that refuses what Amazon MSK Express
 * brokers or MSK Serverless refuse: a replication factor other than 3, topic configs outside
 * the type's list, locked settings, `max.message.bytes` above 8 MiB and a changed
 * `cleanup.policy` on Serverless. The MSK type it imitates is read, on every request, from the
 * file named by the broker setting `kafkamigrate.msk.type.file` ("standard", "express",
 * "serverless"; no file: refuse nothing), so one cluster can play each type in turn. Internal
 * topics (`__*`) are the brokers' own and are not checked.
 */
public class MskTopicPolicy implements CreateTopicPolicy, AlterConfigPolicy {
    private static final Set<String> EXPRESS = new HashSet<>(Arrays.asList(
        "cleanup.policy", "compression.type", "delete.retention.ms", "max.compaction.lag.ms",
        "max.message.bytes", "message.timestamp.after.max.ms", "message.timestamp.before.max.ms",
        "message.timestamp.type", "min.compaction.lag.ms", "retention.bytes", "retention.ms"));
    private static final Set<String> SERVERLESS = new HashSet<>(Arrays.asList(
        "cleanup.policy", "compression.type", "max.message.bytes",
        "message.timestamp.difference.max.ms", "message.timestamp.type", "retention.bytes",
        "retention.ms"));
    private static final long SERVERLESS_MAX_MESSAGE_BYTES = 8L << 20;

    /**
     * Topics whose creation the create-topic policy just passed: a KRaft controller checks a
     * new topic's configs with the alter-config policy too, and that check is part of the
     * creation (where Serverless takes `cleanup.policy`), not a change.
     */
    private static final Set<String> CREATING = ConcurrentHashMap.newKeySet();

    private Path typeFile;

    @Override
    public void configure(Map<String, ?> configs) {
        Object file = configs.get("kafkamigrate.msk.type.file");
        typeFile = file == null ? null : Paths.get(file.toString());
    }

    private String type() {
        if (typeFile == null) {
            return "";
        }
        try {
            return new String(Files.readAllBytes(typeFile), StandardCharsets.UTF_8).trim();
        } catch (NoSuchFileException e) {
            return "";
        } catch (IOException e) {
            throw new PolicyViolationException("cannot read the MSK type: " + e);
        }
    }

    @Override
    public void validate(CreateTopicPolicy.RequestMetadata request) {
        if (request.topic().startsWith("__")) {
            return;
        }
        String type = type();
        if (type.equals("express") || type.equals("serverless")) {
            Short rf = request.replicationFactor();
            if (rf != null && rf != 3) {
                throw new PolicyViolationException("MSK " + type + ": topic " + request.topic()
                    + " must have replication factor 3, not " + rf);
            }
            Map<Integer, List<Integer>> assignments = request.replicasAssignments();
            if (assignments != null) {
                for (List<Integer> replicas : assignments.values()) {
                    if (replicas.size() != 3) {
                        throw new PolicyViolationException("MSK " + type + ": topic "
                            + request.topic() + " must have 3 replicas per partition");
                    }
                }
            }
        }
        check(type, request.topic(), request.configs(), true);
        CREATING.add(request.topic());
    }

    @Override
    public void validate(AlterConfigPolicy.RequestMetadata request) {
        ConfigResource resource = request.resource();
        if (resource.type() != ConfigResource.Type.TOPIC || resource.name().startsWith("__")) {
            return;
        }
        check(type(), resource.name(), request.configs(), CREATING.remove(resource.name()));
    }

    private static void check(String type, String topic, Map<String, String> configs,
                              boolean creating) {
        Set<String> allowed;
        if (type.equals("express")) {
            allowed = EXPRESS;
        } else if (type.equals("serverless")) {
            allowed = SERVERLESS;
        } else {
            return;
        }
        for (Map.Entry<String, String> config : configs.entrySet()) {
            String key = config.getKey();
            if (!allowed.contains(key)) {
                throw new PolicyViolationException("MSK " + type + ": topic " + topic
                    + " cannot set " + key);
            }
            if (type.equals("serverless") && key.equals("cleanup.policy") && !creating) {
                throw new PolicyViolationException("MSK serverless: topic " + topic
                    + " cannot change cleanup.policy after creation");
            }
            if (type.equals("serverless") && key.equals("max.message.bytes")
                    && config.getValue() != null
                    && Long.parseLong(config.getValue()) > SERVERLESS_MAX_MESSAGE_BYTES) {
                throw new PolicyViolationException("MSK serverless: topic " + topic
                    + " cannot set max.message.bytes above " + SERVERLESS_MAX_MESSAGE_BYTES);
            }
        }
    }

    @Override
    public void close() {
    }
}
