// The user-app developer's certificate signing request (PKCS#10): the developer keeps the private key and
// sends the owner only this request, which `privota ca issue --csr` turns into a user-app certificate.
// As esp_ps_secure_boot_util.py generate_user_credentials makes it: the subject and the RSA-3072 public key,
// signed with SHA-256 and the private key (which proves the sender holds it); no attributes.
#pragma once

#include <string>

#include "key_file.h"

namespace privota::tools {

// `key`: the developer's RSA-3072 private key; `subject`: a distinguished name such as
// "CN=Jane Developer, O=Acme". Returns the PEM. Throws ToolError.
std::string make_user_csr(const Key& key, const std::string& subject);

}  // namespace privota::tools
