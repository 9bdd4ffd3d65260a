-- wrk: the GraphQL first page of 20 with the fields of a REST item.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"query":"{ therapists(first: 20) { pageInfo { hasNextPage endCursor } nodes { uuid displayName bio specialties languages city country organisationId accepting offersOnline offersInPerson createdAt updatedAt } } }"}'
