"""Points DynamoDBLocal.jar's manifest Class-Path at the jars Maven resolved.

The official distribution names its DynamoDBLocal_lib/ jars differently from
their Maven artifacts, and `java -jar` reads only the manifest's Class-Path.
Rewriting that one attribute lets `java -jar DynamoDBLocal.jar` run unchanged,
as in the official image.
"""
import sys
import zipfile

jar, out, *libs = sys.argv[1:]
entries = ["."] + [f"DynamoDBLocal_lib/{name}" for name in sorted(libs)]


def wrap(line: str) -> str:
    # Manifest lines hold at most 72 bytes; continuations start with a space.
    data = line.encode()
    chunks = [data[:72]]
    data = data[72:]
    while data:
        chunks.append(b" " + data[:71])
        data = data[71:]
    return b"\r\n".join(chunks).decode() + "\r\n"


with zipfile.ZipFile(jar) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
    for item in source.infolist():
        data = source.read(item.filename)
        if item.filename == "META-INF/MANIFEST.MF":
            text = data.decode().replace("\r\n ", "").replace("\n ", "")
            kept = [l for l in text.replace("\r\n", "\n").split("\n") if l and not l.startswith("Class-Path:")]
            data = ("".join(wrap(l) for l in kept) + wrap("Class-Path: " + " ".join(entries)) + "\r\n").encode()
        target.writestr(item, data)
