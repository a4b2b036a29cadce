// The card form: Stripe's Card Element confirms the SetupIntent the server created, then the
// form posts the SetupIntent's id so the server can read the outcome back from Stripe.
(function () {
  "use strict";
  const form = document.getElementById("card-form");
  if (!form || typeof Stripe === "undefined") {
    const errors = document.getElementById("card-errors");
    if (errors) errors.textContent = "Stripe's card form could not be loaded. Reload the page to try again.";
    return;
  }
  const stripe = Stripe(form.dataset.publishableKey);
  const card = stripe.elements().create("card");
  card.mount("#card-element");
  const errors = document.getElementById("card-errors");
  const button = document.getElementById("card-submit");

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    button.disabled = true;
    errors.textContent = "";
    const result = await stripe.confirmCardSetup(form.dataset.clientSecret, {
      payment_method: { card: card, billing_details: { name: form.dataset.holder } },
    });
    if (result.error) {
      errors.textContent = result.error.message || "The card could not be saved.";
      button.disabled = false;
      return;
    }
    form.elements.setup_intent.value = result.setupIntent.id;
    form.submit();
  });
})();
