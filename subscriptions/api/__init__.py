"""The Fulfillment API for publishers (SaaS Fulfillment API v2, api-version 2018-08-31, as
../shared/reference/fulfillment-api.md describes it): `base` (what every endpoint checks),
`schemas` (the JSON in and out), `views` (the endpoints), `urls` (under /api/saas/)."""
