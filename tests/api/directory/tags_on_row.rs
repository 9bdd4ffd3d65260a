//! The copy of each therapist's tags on the therapist row, which pages read, never
//! differs from the tag tables, which filters read: after the seed, after every
//! REST and GraphQL write of a profile, and after the migration that made the copy.

use std::collections::BTreeMap;

use domain::actor::Role;
use domain::database::Storage;
use domain::directory::{language, specialty, therapist};
use migrations::MigratorTrait;
use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait};
use serde_json::{Value, json};
use uuid::Uuid;

use super::insert_bare_therapist;
use crate::helpers::{Backend, TestApp, TestDatabase};

/// Tags by therapist as the tag tables hold them, in code-point order.
async fn tag_tables(db: &DatabaseConnection) -> BTreeMap<Uuid, (Vec<String>, Vec<String>)> {
    let mut tags: BTreeMap<Uuid, (Vec<String>, Vec<String>)> = BTreeMap::new();
    for row in specialty::Entity::find()
        .all(db)
        .await
        .expect("specialties")
    {
        tags.entry(row.therapist_id)
            .or_default()
            .0
            .push(row.specialty);
    }
    for row in language::Entity::find().all(db).await.expect("languages") {
        tags.entry(row.therapist_id)
            .or_default()
            .1
            .push(row.language);
    }
    for (specialties, languages) in tags.values_mut() {
        specialties.sort_unstable();
        languages.sort_unstable();
    }
    tags
}

/// Asserts that every therapist row's lists are its tag rows joined by commas.
async fn assert_rows_match_tag_tables(db: &DatabaseConnection, after: &str) {
    let tables = tag_tables(db).await;
    let rows = therapist::Entity::find().all(db).await.expect("therapists");
    assert!(!rows.is_empty());
    for row in &rows {
        let (specialties, languages) = tables.get(&row.id).cloned().unwrap_or_default();
        assert_eq!(
            (row.specialty_list.as_str(), row.language_list.as_str()),
            (specialties.join(",").as_str(), languages.join(",").as_str()),
            "therapist {} after {after}",
            row.id
        );
    }
    let orphans: Vec<_> = tables
        .keys()
        .filter(|id| !rows.iter().any(|row| row.id == **id))
        .collect();
    assert!(orphans.is_empty(), "tags without a therapist: {orphans:?}");
}

async fn patch(app: &TestApp, token: &str, id: &str, body: Value) -> Value {
    let response = app
        .http
        .patch(format!("{}/v1/admin/therapists/{id}", app.address))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 200, "PATCH {body}");
    response.json().await.expect("a therapist")
}

async fn every_write_path_keeps_the_row_lists_with_the_tag_tables(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let db = app.storage.db.pool();
    app.seed_therapists(30).await;
    assert_rows_match_tag_tables(db, "the seed").await;

    let support = app.token_for(Role::Support).await;
    let response = app
        .post_json(
            "/v1/admin/therapists",
            &json!({
                "email": "tags.on.row@example.org", "password": "initial password 1",
                "display_name": "Dr. Row Copy", "bio": "", "city": "Graz", "country": "AT",
                "specialties": ["trauma", "A_B", "a-b", "ba", "b-c", "trauma"],
                "languages": ["EN", "de"],
                "accepting": "accepting", "offers_online": true, "offers_in_person": false
            }),
            Some(&support),
        )
        .await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.expect("json");
    let id = created["therapist"]["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    assert_eq!(
        created["therapist"]["specialties"],
        json!(["a-b", "a_b", "b-c", "ba", "trauma"]),
        "code-point order, duplicates dropped"
    );
    assert_rows_match_tag_tables(db, "a REST create").await;

    for (body, after) in [
        (json!({ "specialties": [] }), "emptying specialties"),
        (json!({ "languages": ["fr"] }), "replacing languages"),
        (
            json!({ "bio": "Only the bio changes." }),
            "a bio-only patch",
        ),
    ] {
        patch(&app, &support, &id, body).await;
        assert_rows_match_tag_tables(db, after).await;
    }
    let shown = app.get_json(&format!("/v1/therapists/{id}")).await;
    assert_eq!(
        (&shown["specialties"], &shown["languages"]),
        (&json!([]), &json!(["fr"]))
    );

    let graphql = app
        .graphql_as(
            "mutation { createTherapist(input: {
                email: \"graphql.row@example.org\", password: \"initial password 1\",
                displayName: \"Dr. Graph Row\", bio: \"\", city: \"Lyon\", country: \"FR\",
                specialties: [\"grief\", \"anxiety\"], languages: [\"fr\"],
                accepting: ACCEPTING, offersOnline: true, offersInPerson: true
            }) { therapist { uuid specialties } } }",
            json!({}),
            Some(&support),
        )
        .await;
    let uuid = graphql["data"]["createTherapist"]["therapist"]["uuid"]
        .as_str()
        .unwrap_or_else(|| panic!("created: {graphql}"))
        .to_owned();
    assert_rows_match_tag_tables(db, "a GraphQL create").await;
    let graphql = app
        .graphql_as(
            "mutation($id: UUID!) { updateTherapist(id: $id,
                input: { specialties: [\"ocd\"], languages: [\"fr\", \"en\"] }) { languages } }",
            json!({ "id": uuid }),
            Some(&support),
        )
        .await;
    assert_eq!(
        graphql["data"]["updateTherapist"]["languages"],
        json!(["en", "fr"]),
        "{graphql}"
    );
    assert_rows_match_tag_tables(db, "a GraphQL update").await;

    let page = app.get_json("/v1/therapists?limit=100").await;
    let listed = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|item| item["id"] == uuid.as_str())
        .expect("the GraphQL-created therapist is listed")
        .clone();
    assert_eq!(
        (&listed["specialties"], &listed["languages"]),
        (&json!(["ocd"]), &json!(["en", "fr"]))
    );
}
on_every_backend!(every_write_path_keeps_the_row_lists_with_the_tag_tables);

async fn the_migration_copies_existing_tags_in_code_point_order(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let storage = Storage::connect(database.url(), 2)
        .await
        .expect("a connection");
    let db = storage.db.pool();
    let before_the_copy = migrations::Migrator::migrations()
        .iter()
        .position(|migration| migration.name() == "m20261205_000009_therapist_tags_on_row")
        .expect("the copy's migration") as u32;
    migrations::Migrator::up(db, Some(before_the_copy))
        .await
        .expect("the earlier migrations run");

    let tagged = [
        (vec!["trauma", "a_b", "ba", "a-b", "b-c"], vec!["fr", "en"]),
        (vec!["grief"], vec![]),
        (vec![], vec![]),
    ];
    for (index, (specialties, languages)) in tagged.iter().enumerate() {
        let id = insert_bare_therapist(db, &format!("Therapist {index}")).await;
        for tag in specialties {
            specialty::Entity::insert(specialty::ActiveModel {
                therapist_id: Set(id),
                specialty: Set((*tag).to_owned()),
            })
            .exec_without_returning(db)
            .await
            .expect("a specialty");
        }
        for tag in languages {
            language::Entity::insert(language::ActiveModel {
                therapist_id: Set(id),
                language: Set((*tag).to_owned()),
            })
            .exec_without_returning(db)
            .await
            .expect("a language");
        }
    }

    migrations::Migrator::up(db, None)
        .await
        .expect("the copy runs");
    assert_rows_match_tag_tables(db, "the migration").await;
    let mut lists: Vec<_> = therapist::Entity::find()
        .all(db)
        .await
        .expect("therapists")
        .into_iter()
        .map(|row| (row.display_name, row.specialty_list, row.language_list))
        .collect();
    lists.sort();
    assert_eq!(
        lists,
        [
            ("Therapist 0", "a-b,a_b,b-c,ba,trauma", "en,fr"),
            ("Therapist 1", "grief", ""),
            ("Therapist 2", "", ""),
        ]
        .map(|(name, specialties, languages)| (
            name.to_owned(),
            specialties.to_owned(),
            languages.to_owned()
        ))
    );
}
on_every_backend!(the_migration_copies_existing_tags_in_code_point_order);
