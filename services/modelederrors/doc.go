// Package modelederrors holds only tests: for each service, the error
// shapes its model declares for the operations cloudbox implements are
// triggered over the wire and must reach aws-sdk-go-v2 as their typed
// error (errors.As) and boto3 as client.exceptions.<Shape>. The SDKs pick
// the type from the error code alone (awsQueryError's code for query
// services, __type or the header for JSON and REST ones), so this is what
// keeps cloudbox's codes those of the models.
package modelederrors
