"""The SPARQL 1.1 Protocol face, independent of Flask.

- :mod:`.protocol`: an HTTP request -> a :class:`~.protocol.QueryRequest` (query, dataset, requested formats) or a
  plain-text protocol error;
- :mod:`.negotiation`: the response formats for both query families (results / graphs);
- :mod:`.query_text`: lexical facts about a query text (its form, SERVICE endpoints, IRI rewriting);
- :mod:`.federation`: the SERVICE policy (off unless allowlisted, never internal addresses);
- :mod:`.serialization`: running a query into bytes of one format, with the row cap and IRI rewriting;
- :mod:`.jobs`: what a query worker is given and answers, and the ways a query fails (each with its status);
- :mod:`.execution` and :mod:`.worker`: the time limit, enforced by running queries in killable processes;
- :mod:`.service_description`: the SPARQL 1.1 Service Description of the endpoint.

Kept import-light on purpose: query worker processes import this package.
"""
