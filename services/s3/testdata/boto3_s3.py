"""boto3 against cloudbox's S3: versioning, paginators, conditional
requests. Run by boto3_test.go with the endpoint in AWS_ENDPOINT_URL; any
failed check raises, and the last line printed is "ok"."""

import datetime
import io

import boto3
import botocore.exceptions
from botocore.config import Config

s3 = boto3.client("s3", config=Config(retries={"max_attempts": 1}))


def error_of(fn, **kw):
    """The AWS error code and HTTP status fn raises."""
    try:
        fn(**kw)
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
    raise AssertionError("%s(%s) did not fail" % (fn.__name__, kw))


# Versioning.
s3.create_bucket(Bucket="boto-versions")
s3.put_bucket_versioning(Bucket="boto-versions", VersioningConfiguration={"Status": "Enabled"})
assert s3.get_bucket_versioning(Bucket="boto-versions")["Status"] == "Enabled"
ids = [s3.put_object(Bucket="boto-versions", Key="k", Body=body)["VersionId"] for body in (b"one", b"two", b"three")]
assert len(set(ids)) == 3
assert s3.get_object(Bucket="boto-versions", Key="k", VersionId=ids[0])["Body"].read() == b"one"
marker = s3.delete_object(Bucket="boto-versions", Key="k")
assert marker["DeleteMarker"] is True
assert error_of(s3.get_object, Bucket="boto-versions", Key="k") == ("NoSuchKey", 404)
assert error_of(s3.head_object, Bucket="boto-versions", Key="k") == ("404", 404)
assert error_of(s3.get_object, Bucket="boto-versions", Key="k", VersionId=marker["VersionId"]) == ("MethodNotAllowed", 405)
listed = s3.list_object_versions(Bucket="boto-versions")
assert [v["VersionId"] for v in listed["Versions"]] == ids[::-1], listed["Versions"]
assert listed["DeleteMarkers"][0]["VersionId"] == marker["VersionId"] and listed["DeleteMarkers"][0]["IsLatest"]
s3.delete_object(Bucket="boto-versions", Key="k", VersionId=marker["VersionId"])
assert s3.get_object(Bucket="boto-versions", Key="k")["Body"].read() == b"three"

# Paginators: 25 keys in pages of 4, with and without a delimiter, and
# the versions in pages of 2.
s3.create_bucket(Bucket="boto-pages")
keys = sorted("d%d/k%02d" % (i % 3, i) for i in range(25))
for k in keys:
    s3.put_object(Bucket="boto-pages", Key=k, Body=k.encode())
for op in ("list_objects", "list_objects_v2"):
    pages = list(s3.get_paginator(op).paginate(Bucket="boto-pages", PaginationConfig={"PageSize": 4}))
    got = [o["Key"] for p in pages for o in p.get("Contents", [])]
    assert got == keys, (op, got)
    assert len(pages) == 7, (op, len(pages))
    pages = list(s3.get_paginator(op).paginate(Bucket="boto-pages", Delimiter="/", PaginationConfig={"PageSize": 2}))
    prefixes = [cp["Prefix"] for p in pages for cp in p.get("CommonPrefixes", [])]
    assert prefixes == ["d0/", "d1/", "d2/"], (op, prefixes)
got = [o["Key"] for p in s3.get_paginator("list_objects_v2").paginate(Bucket="boto-pages", Prefix="d1/", StartAfter="d1/k10") for o in p.get("Contents", [])]
assert got == [k for k in keys if k.startswith("d1/") and k > "d1/k10"], got
versions = [v["VersionId"] for p in s3.get_paginator("list_object_versions").paginate(Bucket="boto-versions", PaginationConfig={"PageSize": 2}) for v in p.get("Versions", [])]
assert versions == ids[::-1], versions
# boto3 asks for encoding-type=url itself and decodes what it gets; asked
# for by the caller, it is left encoded.
s3.put_object(Bucket="boto-pages", Key="odd key+é%", Body=b"x")
assert "odd key+é%" in [o["Key"] for o in s3.list_objects(Bucket="boto-pages")["Contents"]]
assert "odd key+é%" in [o["Key"] for o in s3.list_objects_v2(Bucket="boto-pages")["Contents"]]
encoded = [o["Key"] for o in s3.list_objects_v2(Bucket="boto-pages", EncodingType="url")["Contents"]]
assert "odd+key%2B%C3%A9%25" in encoded, encoded

# Conditional requests.
etag = s3.head_object(Bucket="boto-pages", Key="d0/k00")["ETag"]
modified = s3.head_object(Bucket="boto-pages", Key="d0/k00")["LastModified"]
assert s3.get_object(Bucket="boto-pages", Key="d0/k00", IfMatch=etag)["Body"].read() == b"d0/k00"
assert error_of(s3.get_object, Bucket="boto-pages", Key="d0/k00", IfMatch='"nope"') == ("PreconditionFailed", 412)
assert error_of(s3.get_object, Bucket="boto-pages", Key="d0/k00", IfNoneMatch=etag) == ("304", 304)
assert error_of(s3.head_object, Bucket="boto-pages", Key="d0/k00", IfNoneMatch=etag) == ("304", 304)
hour = datetime.timedelta(hours=1)
assert error_of(s3.get_object, Bucket="boto-pages", Key="d0/k00", IfModifiedSince=modified + hour) == ("304", 304)
assert error_of(s3.get_object, Bucket="boto-pages", Key="d0/k00", IfUnmodifiedSince=modified - hour) == ("PreconditionFailed", 412)
assert s3.get_object(Bucket="boto-pages", Key="d0/k00", IfModifiedSince=modified - hour)["ContentLength"] == 6
rng = s3.get_object(Bucket="boto-pages", Key="d0/k00", Range="bytes=3-")
assert rng["Body"].read() == b"k00" and rng["ContentRange"] == "bytes 3-5/6", rng["ContentRange"]

# The transfer manager in boto3 (s3transfer): multipart both ways.
s3.create_bucket(Bucket="boto-transfer")
data = bytes(range(256)) * (40 * 4096)  # 40 MiB
s3.upload_fileobj(io.BytesIO(data), "boto-transfer", "big")
assert s3.head_object(Bucket="boto-transfer", Key="big")["ETag"].endswith('-5"')
out = io.BytesIO()
s3.download_fileobj("boto-transfer", "big", out)
assert out.getvalue() == data

print("ok")
