export {
  type CertificateAuthority,
  type CertificateUsage,
  createCertificateAuthority,
  type IssuedCertificate,
  type IssueOptions,
  loadOrCreateCertificateAuthority,
  loadOrIssueCertificate,
} from './certificate-authority.js'
