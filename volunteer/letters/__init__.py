"""Thank-you letters (感谢函) to employers and service certificates: facts, PDFs, verification, email outbox."""
