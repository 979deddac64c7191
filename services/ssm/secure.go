package ssm

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/base64"
	"regexp"
	"strconv"

	"github.com/cloudbox/cloudbox/uuid"

	"github.com/cloudbox/cloudbox/api"
)

// kmsHeader begins the ciphertext blobs KMS returns for a symmetric key
// (base64 shows them as "AQICAH..."), so that an encrypted SecureString
// looks like the one AWS shows.
var kmsHeader = []byte{0x01, 0x02, 0x02, 0x00, 0x78}

// encrypt is a SecureString's value as GetParameter shows it without
// decryption: the value really encrypted (AES-GCM) under a key derived from
// the account, region and key id, with the parameter's name as associated
// data. The nonce is derived from the version, so one version always shows
// the same ciphertext, as AWS shows the one it stored.
func encrypt(sc scope, keyID, name string, version int64, value string) string {
	key := sha256.Sum256([]byte("cloudbox/ssm/key\x00" + sc.account + "\x00" + sc.region + "\x00" + keyID))
	block, err := aes.NewCipher(key[:])
	if err != nil {
		panic(err) // a 32-byte key always makes a cipher
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	n := sha256.Sum256([]byte("cloudbox/ssm/nonce\x00" + name + "\x00" + strconv.FormatInt(version, 10) + "\x00" + value))
	nonce := n[:gcm.NonceSize()]
	blob := append(append(append([]byte{}, kmsHeader...), nonce...), gcm.Seal(nil, nonce, []byte(value), []byte(name))...)
	return base64.StdEncoding.EncodeToString(blob)
}

// keyIDPattern is the model's pattern for KeyId.
var keyIDPattern = regexp.MustCompile(`^([a-zA-Z0-9:/_-]+)$`)

const uuidRE = `[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`

// keyForms are the ways to name a KMS key: key id, multi-Region key id,
// alias, key ARN, alias ARN.
var keyForms = regexp.MustCompile(`^(` + uuidRE + `|mrk-[0-9a-f]{32}|alias/[a-zA-Z0-9/_-]+|arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key/(` + uuidRE + `|mrk-[0-9a-f]{32})|alias/[a-zA-Z0-9/_-]+))$`)

// checkKeyID refuses a key id that is no KMS key reference. With no KMS in
// cloudbox, a well-formed reference is taken to exist.
func checkKeyID(id string) error {
	if !keyIDPattern.MatchString(id) {
		return validationError("1 validation error detected: Value '%s' at 'keyId' failed to satisfy constraint: Member must satisfy regular expression pattern: ^([a-zA-Z0-9:/_-]+)$", id)
	}
	if !keyForms.MatchString(id) {
		return api.Errorf("InvalidKeyId", "Key '%s' does not exist (Service: AWSKMS; Status Code: 400; Error Code: NotFoundException; Request ID: %s; Proxy: null)", id, uuid.New())
	}
	return nil
}
