"""Produces a case's events to a Kafka topic as Avro or Protobuf records, with the
reference Python libraries (not featc's code): fastavro's schemaless_writer for Avro
datums, Google's protobuf runtime for messages (the .proto compiled by the protoc that
grpcio-tools bundles), confluent-kafka's producer, and Confluent's wire framing
(magic byte 0, the schema id as four big-endian bytes, for Protobuf the message
indexes) when --confluent is given.

Input: JSON lines `{"partition": P, "event": {column: value}}` (times in RFC 3339,
as featc's JSON records carry them). With --bad, records that must be dead-lettered
follow the events; the last line printed is a JSON summary of what was produced.
protoc writes the Protobuf module into --generated, a folder of the caller's (its
test's scratch folder: nothing is left in the system's temporary folder).

Called by cli/tests/serve_kafka_formats.rs, with the interpreter of .services/venv.
"""

import argparse
import datetime
import importlib
import io
import json
import os
import struct
import sys

from confluent_kafka import Producer

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def micros(text):
    """An RFC 3339 instant as integer microseconds since the epoch, exactly."""
    instant = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (instant - EPOCH) // datetime.timedelta(microseconds=1)


def number(value):
    """A JSON cell as Python's value: featc's JSON spells non-finite floats as strings."""
    if value in ("NaN", "Infinity", "-Infinity"):
        return float(value.replace("Infinity", "inf"))
    return value


def avro_encoder(schema_path, time_column):
    import fastavro

    with open(schema_path) as f:
        schema = fastavro.parse_schema(json.load(f))

    def encode(event):
        datum = {k: number(v) for k, v in event.items()}
        datum[time_column] = micros(event[time_column])
        out = io.BytesIO()
        fastavro.schemaless_writer(out, schema, datum)
        return out.getvalue()

    return encode


def protobuf_encoder(proto_path, message, time_column, out_dir):
    import grpc_tools
    from grpc_tools import protoc

    os.makedirs(out_dir, exist_ok=True)
    include = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    folder, name = os.path.split(os.path.abspath(proto_path))
    status = protoc.main(
        ["protoc", f"-I{folder}", f"-I{include}", f"--python_out={out_dir}", name]
    )
    if status != 0:
        sys.exit(f"protoc failed on {proto_path}: {status}")
    sys.path.insert(0, out_dir)
    module = importlib.import_module(name[: -len(".proto")] + "_pb2")
    cls = getattr(module, message.split(".")[-1])

    def encode(event):
        m = cls()
        for column, value in event.items():
            if value is None:
                # Not set: a field with presence (`optional`) reads as null.
                continue
            if column == time_column:
                us = micros(value)
                getattr(m, column).seconds = us // 1_000_000
                getattr(m, column).nanos = (us % 1_000_000) * 1000
            else:
                setattr(m, column, number(value))
        return m.SerializeToString()

    return encode


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--brokers", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--format", choices=["avro", "protobuf"], required=True)
    parser.add_argument("--schema", required=True)
    parser.add_argument("--message")
    parser.add_argument("--time-column", required=True)
    parser.add_argument("--confluent", type=int)
    parser.add_argument("--events", required=True)
    parser.add_argument("--bad", action="store_true")
    parser.add_argument("--generated", required=True, help="a folder for protoc's module")
    parser.add_argument("--null-column", help="a non-null column to send a null in (--bad)")
    args = parser.parse_args()

    if args.format == "avro":
        encode = avro_encoder(args.schema, args.time_column)
    else:
        encode = protobuf_encoder(args.schema, args.message, args.time_column, args.generated)

    def frame(payload, schema_id=None):
        if args.confluent is None:
            return payload
        header = b"\x00" + struct.pack(">I", args.confluent if schema_id is None else schema_id)
        # Protobuf: the message indexes, `[0]` written as the single byte 0.
        return header + (b"\x00" if args.format == "protobuf" else b"") + payload

    producer = Producer({"bootstrap.servers": args.brokers, "linger.ms": 5})
    failed = []

    def delivered(error, _message):
        if error is not None:
            failed.append(str(error))

    def send(partition, value):
        while True:
            try:
                producer.produce(args.topic, value=value, partition=partition, on_delivery=delivered)
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)

    produced = 0
    first = None
    with open(args.events) as lines:
        for line in lines:
            record = json.loads(line)
            first = first or record["event"]
            send(record["partition"], frame(encode(record["event"])))
            produced += 1

    bad = []
    if args.bad and first is not None:
        # Bytes that are no record of the format (and carry no Confluent header).
        send(0, b"\xff\xfe not a record")
        bad.append("garbage")
        whole = encode(first)
        # A record cut one byte short.
        send(1, frame(whole[:-1]))
        bad.append("truncated")
        # A null where the column is not nullable (the schema allows it).
        nulled = dict(first)
        nulled[args.null_column] = None
        send(2, frame(encode(nulled)))
        bad.append("null")
        if args.confluent is not None:
            # A valid record of another schema id.
            send(0, frame(whole, schema_id=args.confluent + 1000))
            bad.append("schema id")
    producer.flush(60)
    if failed:
        sys.exit(f"records not delivered: {failed[:3]}")
    print(json.dumps({"produced": produced + len(bad), "bad": bad}))


if __name__ == "__main__":
    main()
